// TLS with client certificates and username/password authentication, against real etcd 3.4
// members configured for them (certificates from make-certs.sh, users made with etcdctl).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include "ipam/store/etcd_store.hpp"
#include "tests/integration/ipam/etcd_cluster.hpp"

namespace blockd::ipam::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    static int serial = 0;
    path = fs::temp_directory_path() / ("blockd-etcd-pki-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path path;
};

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

class EtcdTls : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string cmd = "bash " BLOCKD_TEST_SOURCE_DIR "/make-certs.sh " + pki.path.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const auto f = [&](const char* name) { return (pki.path / name).string(); };
    etcd = std::make_unique<EtcdCluster>(
        1,
        std::vector<std::string>{"--cert-file", f("server.pem"), "--key-file", f("server.key"), "--trusted-ca-file",
                                 f("ca.pem"), "--client-cert-auth"},
        "?cacert=" + f("ca.pem") + "&cert=" + f("client.pem") + "&key=" + f("client.key"));
  }
  std::string file(const char* name) const { return (pki.path / name).string(); }
  TempDir pki;
  std::unique_ptr<EtcdCluster> etcd;
};

TEST_F(EtcdTls, ClientCertificateFromTheUrlServesEverything) {
  auto store = EtcdStore::open(etcd->url());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto& s = **store;
  auto w = s.watch("/blockd/v1/", s.list("/blockd/v1/")->revision);
  ASSERT_TRUE(w.ok());
  auto r = s.commit({{{"/blockd/v1/tls", 0}}, {Operation::put("/blockd/v1/tls", "yes")}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(s.get("/blockd/v1/tls").value()->value, "yes");
  std::vector<WatchEvent> seen;
  for (int i = 0; i < 20 && seen.empty(); ++i) {
    auto b = (*w)->next(200ms);
    ASSERT_TRUE(b.ok()) << b.error().message;
    seen = b->events;
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kv.value, "yes");
}

TEST_F(EtcdTls, FilesFromTheEnvironmentWork) {
  auto opts = parse_etcd_url("etcd://" + etcd->endpoint(0), env_of({{"BLOCKD_ETCD_CACERT", file("ca.pem")},
                                                                     {"BLOCKD_ETCD_CERT", file("client.pem")},
                                                                     {"BLOCKD_ETCD_KEY", file("client.key")}}));
  ASSERT_TRUE(opts.ok()) << opts.error().message;
  auto store = EtcdStore::open(*opts);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto r = (*store)->get("/blockd/v1/anything");
  ASSERT_TRUE(r.ok()) << r.error().message;
}

TEST_F(EtcdTls, WithoutAClientCertificateTheHandshakeFailsClearly) {
  auto store = EtcdStore::open("etcd://" + etcd->endpoint(0) + "?cacert=" + file("ca.pem"));
  ASSERT_TRUE(store.ok());
  auto r = (*store)->get("/blockd/v1/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_NE(r.error().message.find(etcd->endpoint(0)), std::string::npos) << r.error().message;
  // Go's server sends its alert after the client's last handshake flight: the failure shows up
  // on the handshake or on the first read, never as an answer.
  EXPECT_TRUE(r.error().message.find("TLS handshake") != std::string::npos ||
              r.error().message.find("certificate") != std::string::npos)
      << r.error().message;
}

TEST_F(EtcdTls, AServerOutsideTheTrustedCaIsRefused) {
  auto store = EtcdStore::open("etcd://" + etcd->endpoint(0) + "?cacert=" + file("other-ca.pem") +
                               "&cert=" + file("client.pem") + "&key=" + file("client.key"));
  ASSERT_TRUE(store.ok());
  auto r = (*store)->get("/blockd/v1/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_NE(r.error().message.find("TLS handshake"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
}

TEST_F(EtcdTls, TheCertificateMustNameTheHostDialled) {
  // The server certificate names IP 127.0.0.1 only.
  const auto port = etcd->endpoint(0).substr(etcd->endpoint(0).find(':') + 1);
  auto store = EtcdStore::open("etcd://localhost:" + port + "?cacert=" + file("ca.pem") + "&cert=" +
                               file("client.pem") + "&key=" + file("client.key"));
  ASSERT_TRUE(store.ok());
  auto r = (*store)->get("/blockd/v1/x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("certificate verify failed"), std::string::npos) << r.error().message;
}

TEST_F(EtcdTls, MissingOrBrokenFilesAreNamedAtOpen) {
  auto missing = EtcdStore::open("etcd://" + etcd->endpoint(0) + "?cacert=/nonexistent/ca.pem");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::Invalid);
  EXPECT_NE(missing.error().message.find("/nonexistent/ca.pem"), std::string::npos) << missing.error().message;
  auto swapped = EtcdStore::open("etcd://" + etcd->endpoint(0) + "?cacert=" + file("ca.pem") + "&cert=" +
                                 file("client.key") + "&key=" + file("client.pem"));
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.error().message.find("client certificate"), std::string::npos) << swapped.error().message;
}

// etcdctl against one member, as an operator would set auth up.
void etcdctl(const EtcdCluster& etcd, const std::string& args) {
  const std::string cmd = "ETCDCTL_API=3 etcdctl --endpoints=" + etcd.client_url(0) + " " + args + " >/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

class EtcdAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    // Tokens live 2 s, so the tests also see them expire and get renewed.
    etcd = std::make_unique<EtcdCluster>(1, std::vector<std::string>{"--auth-token", "simple", "--auth-token-ttl", "2"});
    etcdctl(*etcd, "user add root:rootpw");
    etcdctl(*etcd, "role add root");
    etcdctl(*etcd, "user grant-role root root");
    etcdctl(*etcd, "role add blockd");
    etcdctl(*etcd, "role grant-permission blockd --prefix=true readwrite /blockd/v1/");
    etcdctl(*etcd, "user add blockd:blockdpw");
    etcdctl(*etcd, "user grant-role blockd blockd");
    etcdctl(*etcd, "auth enable");
  }
  Result<std::unique_ptr<EtcdStore>> open_as(const std::string& user, const std::string& password) {
    auto opts = parse_etcd_url("etcd://" + etcd->endpoint(0),
                               env_of({{"BLOCKD_ETCD_USERNAME", user}, {"BLOCKD_ETCD_PASSWORD", password}}));
    if (!opts) return opts.error();
    return EtcdStore::open(*opts);
  }
  std::unique_ptr<EtcdCluster> etcd;
};

TEST_F(EtcdAuth, AUserWithAPasswordReadsWritesAndWatchesItsPrefix) {
  auto store = open_as("blockd", "blockdpw");
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto& s = **store;
  auto w = s.watch("/blockd/v1/", s.list("/blockd/v1/")->revision).value();
  ASSERT_TRUE(s.commit({{{"/blockd/v1/a", 0}}, {Operation::put("/blockd/v1/a", "1")}})->succeeded);
  EXPECT_EQ(s.get("/blockd/v1/a").value()->value, "1");
  std::vector<WatchEvent> seen;
  for (int i = 0; i < 20 && seen.empty(); ++i) {
    auto b = w->next(200ms);
    ASSERT_TRUE(b.ok()) << b.error().message;
    seen = b->events;
  }
  ASSERT_EQ(seen.size(), 1u);

  // Outside its role's prefix: a clear refusal, not a retry.
  auto outside = s.commit({{}, {Operation::put("/elsewhere", "x")}});
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code, ErrorCode::Invalid);
  EXPECT_NE(outside.error().message.find("permission denied"), std::string::npos) << outside.error().message;
}

TEST_F(EtcdAuth, AnExpiredTokenIsRenewedWithoutTheCallerNoticing) {
  auto store = open_as("blockd", "blockdpw");
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->commit({{}, {Operation::put("/blockd/v1/t", "1")}}).ok());
  std::this_thread::sleep_for(3500ms);  // beyond --auth-token-ttl 2 (etcd checks every second)
  auto r = (*store)->commit({{}, {Operation::put("/blockd/v1/t", "2")}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*store)->get("/blockd/v1/t").value()->value, "2");
}

TEST_F(EtcdAuth, CallsAndTheWatchGoOnAcrossAMemberRestart) {
  auto store = open_as("blockd", "blockdpw");
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto& s = **store;
  auto w = s.watch("/blockd/v1/", s.list("/blockd/v1/")->revision).value();
  etcd->stop(0);
  etcd->start(0);
  etcd->wait_ready(0);
  // The pooled connections and the watch's connection are dead; both come back authenticated.
  auto r = s.commit({{}, {Operation::put("/blockd/v1/r", "after-restart")}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<WatchEvent> seen;
  for (int i = 0; i < 40 && seen.empty(); ++i) {
    auto b = w->next(200ms);
    if (!b) continue;  // the first call after the drop may report it
    seen = b->events;
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kv.value, "after-restart");
}

TEST_F(EtcdAuth, AWrongPasswordFailsAtOpenNamingTheUser) {
  auto store = open_as("blockd", "wrong");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::Invalid);
  EXPECT_NE(store.error().message.find("authentication as \"blockd\" failed"), std::string::npos) << store.error().message;
}

TEST_F(EtcdAuth, NoCredentialsIsRefusedClearly) {
  auto store = EtcdStore::open("etcd://" + etcd->endpoint(0));
  ASSERT_TRUE(store.ok());
  auto r = (*store)->get("/blockd/v1/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Invalid);
  EXPECT_NE(r.error().message.find("user name is empty"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace blockd::ipam::testing
