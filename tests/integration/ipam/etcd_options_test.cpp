// The etcd datastore URL and the base64 the gateway speaks: pure parsing, no etcd needed.
#include <gtest/gtest.h>

#include <map>

#include "ipam/store/base64.hpp"
#include "ipam/store/etcd_options.hpp"

namespace blockd::ipam {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(EtcdUrl, EndpointsWithDefaultPortAndIPv6) {
  auto o = parse_etcd_url("etcd://10.0.0.1:2379,etcd-b,[fd00::1]:12379", env_of({}));
  ASSERT_TRUE(o.ok()) << o.error().message;
  ASSERT_EQ(o->endpoints.size(), 3u);
  EXPECT_EQ(o->endpoints[0].str(), "10.0.0.1:2379");
  EXPECT_EQ(o->endpoints[1].str(), "etcd-b:2379");
  EXPECT_EQ(o->endpoints[2].host, "fd00::1");
  EXPECT_EQ(o->endpoints[2].port, 12379);
  EXPECT_EQ(o->describe(), "etcd://10.0.0.1:2379,etcd-b:2379,[fd00::1]:12379");
  EXPECT_FALSE(o->tls());
}

TEST(EtcdUrl, TlsFilesAndTimeoutFromQuery) {
  auto o = parse_etcd_url("etcd://h:1?cacert=/etc/ca.pem&cert=/etc/c%2B.pem&key=/etc/k.pem&timeout=1500ms", env_of({}));
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_TRUE(o->tls());
  EXPECT_EQ(o->cacert, "/etc/ca.pem");
  EXPECT_EQ(o->cert, "/etc/c+.pem");
  EXPECT_EQ(o->key, "/etc/k.pem");
  EXPECT_EQ(o->request_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(o->describe(), "etcd://h:1");  // no file names or secrets in messages
}

TEST(EtcdUrl, EnvironmentFillsWhatTheUrlLeavesOut) {
  auto o = parse_etcd_url("etcd://h:1?cacert=/url-ca.pem",
                          env_of({{"BLOCKD_ETCD_CACERT", "/env-ca.pem"},
                                  {"BLOCKD_ETCD_USERNAME", "blockd"},
                                  {"BLOCKD_ETCD_PASSWORD", "s3cret"}}));
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->cacert, "/url-ca.pem");
  EXPECT_EQ(o->username, "blockd");
  EXPECT_EQ(o->password, "s3cret");
}

TEST(EtcdUrl, BadUrlsNameWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"etcd://", "no endpoint"},
      {"etcd://h:0", "port must be"},
      {"etcd://h:99999", "port must be"},
      {"etcd://h:x", "port must be"},
      {"etcd://:2379", "empty host"},
      {"etcd://[::1", "missing ']'"},
      {"etcd://h?password=x", "never taken from the URL"},
      {"etcd://h?cert=/c.pem", "needs both cert= and key="},
      {"etcd://h?username=u", "needs a password"},
      {"etcd://h?timeout=soon", "timeout \"soon\""},
      {"etcd://h?colour=blue", "unknown parameter \"colour\""},
      {"etcd://h?cacert=", "needs a value"},
      {"etcd://h?password-file=/nonexistent/pw", "cannot be read"},
  };
  for (const auto& [url, why] : cases) {
    auto o = parse_etcd_url(url, env_of({}));
    ASSERT_FALSE(o.ok()) << url;
    EXPECT_EQ(o.error().code, ErrorCode::Invalid) << url;
    EXPECT_NE(o.error().message.find(why), std::string::npos) << url << ": " << o.error().message;
    EXPECT_NE(o.error().message.find(url), std::string::npos) << o.error().message;
  }
}

TEST(Base64, RoundTripsEveryByteAndEveryPadding) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 1) {
    const auto text = base64_encode(all.substr(0, n));
    EXPECT_EQ(base64_decode(text), all.substr(0, n));
  }
  EXPECT_EQ(base64_encode("/a"), "L2E=");
  EXPECT_EQ(base64_encode("1"), "MQ==");
  EXPECT_EQ(base64_decode("L2E="), "/a");
}

TEST(Base64, RejectsMalformedText) {
  for (const char* bad : {"L2E", "L2=E", "L$E=", "=AAA", "A==="}) EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
}

}  // namespace
}  // namespace blockd::ipam
