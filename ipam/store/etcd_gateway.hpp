// The client side of etcd's v3 JSON gateway (grpc-gateway over HTTP/1.1): POST /v3/<service>/<call>
// with a JSON body, one answer per call, or a stream of answers for watches. It keeps one pool of
// keep-alive connections per cluster (any thread may call), fails over across the endpoints in
// bounded passes with back-off, authenticates with a username and password when given, and turns
// every failure into an Error that names the endpoints and the cause.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "ipam/store/etcd_options.hpp"
#include "ipam/net/result.hpp"

namespace blockd::ipam {

// Whether a call may be sent again, possibly to another member, once it may have reached one.
// A transaction that writes must not be: the first copy may have been applied.
enum class Resend { Safe, Unsafe };

// One server-streamed call (a watch) on its own connection.
class EtcdStream {
 public:
  virtual ~EtcdStream() = default;
  // The next message of the stream; empty when none came within the timeout; an error of code
  // Unavailable when the connection dropped (open a new stream to go on).
  virtual Result<std::optional<nlohmann::json>> next(std::chrono::milliseconds timeout) = 0;
};

class EtcdGateway {
 public:
  // Checks the TLS files and, with a username, authenticates (which also proves a member answers).
  static Result<std::shared_ptr<EtcdGateway>> connect(EtcdOptions options);
  ~EtcdGateway();
  EtcdGateway(const EtcdGateway&) = delete;
  EtcdGateway& operator=(const EtcdGateway&) = delete;

  // path: "/v3/kv/range" and the like. The answer's JSON body, or the error etcd or the network gave.
  Result<nlohmann::json> call(const std::string& path, const nlohmann::json& body, Resend resend);
  Result<std::unique_ptr<EtcdStream>> stream(const std::string& path, const nlohmann::json& body);
  // After a stream reported an expired token: authenticate again before the next stream.
  Status refresh_token();

  const EtcdOptions& options() const;
  std::string describe() const;

  struct Impl;

 private:
  explicit EtcdGateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace blockd::ipam
