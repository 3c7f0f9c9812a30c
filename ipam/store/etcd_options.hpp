// How to reach an etcd v3 cluster, as the datastore URL names it:
//   etcd://host:port[,host:port...][?cacert=FILE&cert=FILE&key=FILE&username=NAME&password-file=FILE&timeout=5s]
// Every setting may instead come from the environment (BLOCKD_ETCD_CACERT, BLOCKD_ETCD_CERT,
// BLOCKD_ETCD_KEY, BLOCKD_ETCD_USERNAME, BLOCKD_ETCD_PASSWORD, BLOCKD_ETCD_PASSWORD_FILE); the URL
// wins. A password is never accepted in the URL: URLs end up on command lines and in ps.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ipam/net/result.hpp"

namespace blockd::ipam {

struct EtcdEndpoint {
  std::string host;
  std::uint16_t port = 2379;
  std::string str() const;  // host:port, [v6]:port
};

struct EtcdOptions {
  std::vector<EtcdEndpoint> endpoints;
  // TLS is on when a CA or a client certificate is given.
  std::string cacert;
  std::string cert;
  std::string key;
  std::string username;
  std::string password;
  std::chrono::milliseconds dial_timeout{2000};
  std::chrono::milliseconds request_timeout{5000};
  int rounds = 2;                          // passes over every endpoint before a call fails
  std::chrono::milliseconds backoff{100};  // pause before the second pass, doubled after

  bool tls() const { return !cacert.empty() || !cert.empty(); }
  std::string describe() const;  // etcd://host:port,... (no secrets)
};

using EnvLookup = std::function<const char*(const char*)>;

Result<EtcdOptions> parse_etcd_url(const std::string& url, const EnvLookup& env);
Result<EtcdOptions> parse_etcd_url(const std::string& url);  // with the process environment

}  // namespace blockd::ipam
