// The control API over a real Unix socket in a temporary folder, with a fake handler: routing,
// error mapping both ways, malformed requests, keep-alive, the socket file's life, the client's
// errors; and the metrics listener on loopback.
#include "agent/control_api.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace blockd::agent {
namespace {

namespace net = boost::asio;
using json = nlohmann::json;
using local = net::local::stream_protocol;

class FakeHandler : public ControlHandler {
 public:
  json status() override { return {{"node", "kube-node-0"}, {"warnings", json::array()}}; }
  json peers() override {
    return json::array({{{"address", "10.0.0.1"}, {"state", "Established"}, {"since", 5}, {"source", "config"}}});
  }
  json routes(const std::string& which) override {
    if (which == "kernel") throw std::runtime_error("boom");
    return {{"which", which}};
  }
  Result<json> allocate(const json& request) override {
    last_request = request;
    if (request.value("handle", "") == "full") return exhausted("no free address in rack-0");
    if (request.value("handle", "") == "nopool") return invalid("no IPv4 IP pool selects node kube-node-0");
    return json{{"ips", json::array({{{"address", "192.168.0.5"}, {"prefixLength", 32}, {"gateway", "169.254.1.1"}}})}};
  }
  Result<json> release(const json& request) override {
    if (request.value("handle", "") == "ghost") return not_found("handle ghost holds nothing");
    return json{{"released", json::array({"192.168.0.5"})}};
  }
  Result<json> handle(const std::string& handle_id) override {
    last_handle = handle_id;
    return json{{"handle", handle_id}, {"ips", json::array({"192.168.0.5"})}};
  }
  std::string metrics() override { return "blockd_bgp_sessions 1\n"; }

  json last_request;
  std::string last_handle;
};

// A ControlServer on its own io thread, in a fresh temporary folder.
class ControlApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static int counter = 0;  // short paths: a Unix socket path has at most 107 characters
    dir_ = std::filesystem::temp_directory_path() /
           ("blockd-api-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "run" / "blockd.sock").string();
  }
  void TearDown() override {
    stop();
    std::filesystem::remove_all(dir_);
  }
  void start() {
    server_ = std::make_unique<ControlServer>(io_, handler_, path_);
    auto ok = server_->start();
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    guard_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }
  void stop() {
    if (!thread_.joinable()) return;
    guard_.reset();
    io_.stop();
    thread_.join();
    server_.reset();
  }
  // Sends raw bytes and reads until the server closes.
  std::string raw(const std::string& bytes) {
    net::io_context io;
    local::socket s(io);
    s.connect(local::endpoint(path_));
    net::write(s, net::buffer(bytes));
    s.shutdown(local::socket::shutdown_send);
    std::string out;
    boost::system::error_code ec;
    net::read(s, net::dynamic_buffer(out), ec);
    return out;
  }

  std::filesystem::path dir_;
  std::string path_;
  net::io_context io_;
  FakeHandler handler_;
  std::unique_ptr<ControlServer> server_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard_;
  std::thread thread_;
};

TEST(ErrorMapping, EveryCodeHasAStatusAndANameThatRoundTrip) {
  const std::pair<ErrorCode, unsigned> table[] = {
      {ErrorCode::Invalid, 400},   {ErrorCode::NotFound, 404},    {ErrorCode::Conflict, 409},
      {ErrorCode::Exhausted, 507}, {ErrorCode::Unavailable, 503}, {ErrorCode::Internal, 500},
  };
  for (auto [code, status] : table) {
    EXPECT_EQ(http_status_of(code), status) << error_code_name(code);
    EXPECT_EQ(error_code_of_http(status), code) << status;
    auto back = error_code_from_name(error_code_name(code));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, code);
  }
}

TEST(ErrorMapping, NamesAreTheEnumeratorsSpelledOut) {
  EXPECT_STREQ(error_code_name(ErrorCode::NotFound), "NotFound");
  EXPECT_STREQ(error_code_name(ErrorCode::Exhausted), "Exhausted");
}

TEST(ErrorMapping, UnknownNameIsInvalidAndUnknownStatusIsInternal) {
  auto r = error_code_from_name("Teapot");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Teapot"), std::string::npos);
  EXPECT_EQ(error_code_of_http(418), ErrorCode::Internal);
  EXPECT_EQ(error_code_of_http(413), ErrorCode::Invalid);
}

TEST(CallerCheck, RootAndTheDaemonsOwnUserOnly) {
  EXPECT_TRUE(caller_allowed(0, 0));
  EXPECT_TRUE(caller_allowed(0, 998));
  EXPECT_TRUE(caller_allowed(998, 998));
  EXPECT_FALSE(caller_allowed(1000, 998));
  EXPECT_FALSE(caller_allowed(1000, 0));
}

TEST_F(ControlApiTest, StatusPeersAndRoutesReachTheHandler) {
  start();
  ControlClient client(path_);
  auto status = client.get("/v1/status");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ((*status)["node"], "kube-node-0");
  auto peers = client.get("/v1/peers");
  ASSERT_TRUE(peers.ok());
  EXPECT_EQ((*peers)[0]["address"], "10.0.0.1");
  for (const char* which : {"advertised", "received"}) {
    auto r = client.get(std::string("/v1/routes/") + which + "?x=1");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ((*r)["which"], which);
  }
}

TEST_F(ControlApiTest, AllocateAndReleasePassTheBodyAndTheAnswer) {
  start();
  ControlClient client(path_);
  auto a = client.post("/v1/ipam/allocate", {{"handle", "net.c1"}, {"ipv4", true}});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ((*a)["ips"][0]["address"], "192.168.0.5");
  EXPECT_EQ(handler_.last_request["handle"], "net.c1");
  auto r = client.post("/v1/ipam/release", {{"handle", "net.c1"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["released"][0], "192.168.0.5");
}

TEST_F(ControlApiTest, HandlerErrorsComeBackWithTheirCodeAndMessage) {
  start();
  ControlClient client(path_);
  auto full = client.post("/v1/ipam/allocate", {{"handle", "full"}});
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::Exhausted);
  EXPECT_EQ(full.error().message, "no free address in rack-0");
  auto nopool = client.post("/v1/ipam/allocate", {{"handle", "nopool"}});
  ASSERT_FALSE(nopool.ok());
  EXPECT_EQ(nopool.error().code, ErrorCode::Invalid);
  auto ghost = client.post("/v1/ipam/release", {{"handle", "ghost"}});
  ASSERT_FALSE(ghost.ok());
  EXPECT_EQ(ghost.error().code, ErrorCode::NotFound);
}

TEST_F(ControlApiTest, HandleLookupIsPercentDecoded) {
  start();
  ControlClient client(path_);
  auto h = client.get("/v1/ipam/handles/k8s-pod-network.abc%2Fdef");
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(handler_.last_handle, "k8s-pod-network.abc/def");
}

TEST_F(ControlApiTest, AThrowingHandlerIsAnInternalErrorNotACrash) {
  start();
  ControlClient client(path_);
  auto r = client.get("/v1/routes/kernel");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Internal);
  EXPECT_NE(r.error().message.find("boom"), std::string::npos);
  EXPECT_TRUE(client.get("/v1/status").ok());
}

TEST_F(ControlApiTest, UnknownEndpointIsNotFoundAndWrongMethodIsInvalid) {
  start();
  ControlClient client(path_);
  auto missing = client.get("/v1/nothing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
  EXPECT_NE(missing.error().message.find("/v1/nothing"), std::string::npos);
  auto wrong = client.get("/v1/ipam/allocate");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::Invalid);
  EXPECT_NE(wrong.error().message.find("POST"), std::string::npos);
  const std::string answer = raw("DELETE /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 405")) << answer;
  EXPECT_NE(answer.find("Allow: GET"), std::string::npos) << answer;
}

TEST_F(ControlApiTest, BodiesThatAreNotJsonObjectsAreRefusedByName) {
  start();
  const std::string not_json = raw(
      "POST /v1/ipam/allocate HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{nope");
  EXPECT_TRUE(not_json.starts_with("HTTP/1.1 400")) << not_json;
  EXPECT_NE(not_json.find("not valid JSON"), std::string::npos) << not_json;
  EXPECT_NE(not_json.find("\"code\":\"Invalid\""), std::string::npos) << not_json;
  ControlClient client(path_);
  auto list = client.post("/v1/ipam/release", json::array({1, 2}));
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().code, ErrorCode::Invalid);
  EXPECT_NE(list.error().message.find("JSON object"), std::string::npos);
}

TEST_F(ControlApiTest, MalformedHttpIsAnswered400AndTheServerCarriesOn) {
  start();
  for (const std::string& garbage : {std::string("\x16\x03\x01\x02\x00garbage\r\n\r\n"), std::string("GET\r\n\r\n"),
                                    std::string("GET / HTTP/1.1\r\nContent-Length: banana\r\n\r\n"),
                                    std::string("POST /v1/ipam/allocate HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    const std::string answer = raw(garbage);
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400")) << answer;
    EXPECT_NE(answer.find("malformed HTTP request"), std::string::npos) << answer;
  }
  EXPECT_TRUE(ControlClient(path_).get("/v1/status").ok());
}

TEST_F(ControlApiTest, AnOversizedBodyIsRefusedWithoutReadingIt) {
  start();
  const std::string answer = raw("POST /v1/ipam/allocate HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n{}");
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
  EXPECT_NE(answer.find("1 MiB"), std::string::npos) << answer;
}

TEST_F(ControlApiTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  const std::string answer = raw(
      "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/peers HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::size_t count = 0;
  for (auto at = answer.find("HTTP/1.1 200"); at != std::string::npos; at = answer.find("HTTP/1.1 200", at + 1)) ++count;
  EXPECT_EQ(count, 3u) << answer;
}

TEST_F(ControlApiTest, SocketIsMode0660InACreatedFolderAndRemovedOnStop) {
  start();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ControlApiTest, AStaleSocketIsReplaced) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  {
    net::io_context io;
    local::acceptor dead(io, local::endpoint(path_));  // bound, then closed: nobody accepts
  }
  ASSERT_TRUE(std::filesystem::exists(path_));
  start();
  EXPECT_TRUE(ControlClient(path_).get("/v1/status").ok());
}

TEST_F(ControlApiTest, ALiveSocketIsNotTakenOver) {
  start();
  net::io_context io;
  FakeHandler other;
  ControlServer second(io, other, path_);
  auto r = second.start();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Conflict);
  EXPECT_TRUE(ControlClient(path_).get("/v1/status").ok());
}

TEST_F(ControlApiTest, APathThatIsNotASocketIsRefused) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  { std::ofstream(path_) << "data"; }
  net::io_context io;
  ControlServer server(io, handler_, path_);
  auto r = server.start();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a socket"), std::string::npos);
}

TEST_F(ControlApiTest, AMissingAgentIsUnavailableNamingTheSocket) {
  auto r = ControlClient(path_).get("/v1/status");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_EQ(r.error().message, "cannot reach blockd at " + path_ + ": No such file or directory (is blockd running?)");
}

TEST_F(ControlApiTest, ARefusedConnectionIsUnavailable) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  {
    net::io_context io;
    local::acceptor dead(io, local::endpoint(path_));
  }
  auto r = ControlClient(path_).get("/v1/status");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_NE(r.error().message.find("Connection refused"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("(is blockd running?)"), std::string::npos);
}

TEST_F(ControlApiTest, AnAgentThatNeverAnswersTimesOut) {
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  net::io_context io;
  local::acceptor silent(io, local::endpoint(path_));  // the kernel accepts; nobody answers
  auto r = ControlClient(path_, 100).get("/v1/status");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Unavailable);
  EXPECT_NE(r.error().message.find("did not answer"), std::string::npos) << r.error().message;
}

TEST(MetricsServer, ServesPrometheusTextOnLoopback) {
  net::io_context io;
  FakeHandler handler;
  MetricsServer server(io, handler, "127.0.0.1:0");
  auto ok = server.start();
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_NE(server.port(), 0);
  std::thread t([&] { io.run(); });
  std::string answer;
  {
    net::io_context cio;
    net::ip::tcp::socket s(cio);
    s.connect({net::ip::make_address("127.0.0.1"), server.port()});
    net::write(s, net::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
    boost::system::error_code ec;
    net::read(s, net::dynamic_buffer(answer), ec);
  }
  io.stop();
  t.join();
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  EXPECT_NE(answer.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << answer;
  EXPECT_NE(answer.find("blockd_bgp_sessions 1"), std::string::npos) << answer;
}

TEST(MetricsServer, RefusesAddressesOffLoopbackAndBadPorts) {
  net::io_context io;
  FakeHandler handler;
  for (const char* address : {"0.0.0.0:9095", "10.0.0.1:9095", "127.0.0.1", "127.0.0.1:99999", "nonsense:1"}) {
    MetricsServer server(io, handler, address);
    auto r = server.start();
    ASSERT_FALSE(r.ok()) << address;
    EXPECT_EQ(r.error().code, ErrorCode::Invalid) << address;
    EXPECT_NE(r.error().message.find(address), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace blockd::agent

namespace blockd::agent {
namespace {

// The metrics port is open to every local user: at its cap (16) the connection idle longest is
// closed for a newcomer, so idle connections can neither pile up nor lock out a scraper.
TEST(MetricsServer, AtTheCapTheOldestIdleConnectionMakesRoom) {
  net::io_context io;
  FakeHandler handler;
  MetricsServer server(io, handler, "127.0.0.1:0");
  ASSERT_TRUE(server.start().ok());
  std::thread t([&] { io.run(); });
  net::io_context cio;
  const net::ip::tcp::endpoint at{net::ip::make_address("127.0.0.1"), server.port()};
  std::vector<std::unique_ptr<net::ip::tcp::socket>> idle;
  for (int i = 0; i < 16; ++i) {
    idle.push_back(std::make_unique<net::ip::tcp::socket>(cio));
    idle.back()->connect(at);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // accepted in this order
  }
  std::string answer;
  {
    net::ip::tcp::socket s(cio);
    s.connect(at);
    net::write(s, net::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
    boost::system::error_code ec;
    net::read(s, net::dynamic_buffer(answer), ec);
  }
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  // The first idle connection was closed by the server: it reads end-of-stream (within 5 s; an
  // open one would have nothing to read).
  pollfd p{idle.front()->native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1) << "the oldest idle connection is still open";
  char byte;
  EXPECT_EQ(::recv(idle.front()->native_handle(), &byte, 1, 0), 0);
  boost::system::error_code ec;
  // The newest idle connection is still open: a request on it is answered.
  std::string second;
  net::write(*idle.back(), net::buffer(std::string("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  net::read(*idle.back(), net::dynamic_buffer(second), ec);
  EXPECT_TRUE(second.starts_with("HTTP/1.1 200")) << second;
  server.stop();
  io.stop();
  t.join();
}

}  // namespace
}  // namespace blockd::agent
