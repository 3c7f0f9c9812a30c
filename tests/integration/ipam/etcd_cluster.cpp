#include "tests/integration/ipam/etcd_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ipam/store/etcd_gateway.hpp"

namespace blockd::ipam::testing {

int EtcdCluster::free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

EtcdCluster::EtcdCluster(int members, std::vector<std::string> extra_args, std::string client_query)
    : extra_(std::move(extra_args)), query_(std::move(client_query)) {
  static int serial = 0;
  dir_ = std::filesystem::temp_directory_path() /
         ("blockd-etcd-" + std::to_string(::getpid()) + "-" + std::to_string(serial++));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  for (const auto& a : extra_) tls_ = tls_ || a == "--cert-file";
  for (int i = 0; i < members; ++i) {
    members_.push_back({"m" + std::to_string(i), free_port(), free_port(), -1});
  }
  try {
    for (int i = 0; i < members; ++i) start(i);
    for (int i = 0; i < members; ++i) wait_ready(i);
  } catch (...) {
    for (int i = 0; i < members; ++i) stop(i);
    throw;
  }
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) stop(i);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string EtcdCluster::endpoint(int m) const { return "127.0.0.1:" + std::to_string(members_[m].client_port); }
std::string EtcdCluster::client_url(int m) const { return (tls_ ? "https://" : "http://") + endpoint(m); }

std::string EtcdCluster::url() const {
  std::string out = "etcd://";
  for (int i = 0; i < size(); ++i) out += (i ? "," : "") + endpoint(i);
  return out + query_;
}

std::vector<std::string> EtcdCluster::args(int m) const {
  const auto& me = members_[m];
  std::string cluster;
  for (const auto& other : members_) {
    cluster += (cluster.empty() ? "" : ",") + other.name + "=http://127.0.0.1:" + std::to_string(other.peer_port);
  }
  std::vector<std::string> a{"etcd",
                             "--name", me.name,
                             "--data-dir", (dir_ / me.name).string(),
                             "--listen-client-urls", client_url(m),
                             "--advertise-client-urls", client_url(m),
                             "--listen-peer-urls", "http://127.0.0.1:" + std::to_string(me.peer_port),
                             "--initial-advertise-peer-urls", "http://127.0.0.1:" + std::to_string(me.peer_port),
                             "--initial-cluster", cluster,
                             "--initial-cluster-state", "new",
                             "--initial-cluster-token", dir_.filename().string()};
  a.insert(a.end(), extra_.begin(), extra_.end());
  return a;
}

void EtcdCluster::start(int m) {
  auto& me = members_[m];
  if (me.pid > 0) return;
  const auto a = args(m);
  const std::string log = (dir_ / (me.name + ".log")).string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (const auto& s : a) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    ::execvp("etcd", argv.data());
    ::_exit(127);
  }
  me.pid = pid;
}

void EtcdCluster::stop(int m, int signal) {
  auto& me = members_[m];
  if (me.pid <= 0) return;
  ::kill(me.pid, signal);
  int status = 0;
  ::waitpid(me.pid, &status, 0);
  me.pid = -1;
}

std::string EtcdCluster::log_tail(int m) const {
  std::ifstream in(dir_ / (members_[m].name + ".log"));
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  return s.size() > 3000 ? s.substr(s.size() - 3000) : s;
}

void EtcdCluster::wait_ready(int m) const {
  auto opts = parse_etcd_url("etcd://" + endpoint(m) + query_).value();
  opts.rounds = 1;
  // A member is ready when it serves a linearizable read, which needs a leader.
  for (int i = 0; i < 300; ++i) {
    if (members_[m].pid <= 0) break;
    int status = 0;
    if (::waitpid(members_[m].pid, &status, WNOHANG) == members_[m].pid) {
      throw std::runtime_error("etcd member " + members_[m].name + " exited at start:\n" + log_tail(m));
    }
    auto gw = EtcdGateway::connect(opts);
    if (gw) {
      auto r = (*gw)->call("/v3/kv/range", {{"key", "AA=="}}, Resend::Safe);
      if (r) return;
      // With auth on, a refusal still proves the member is up.
      if (r.error().code != ErrorCode::Unavailable) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("etcd member " + members_[m].name + " did not become ready within 30 s:\n" + log_tail(m));
}

int EtcdCluster::leader() const {
  for (int m = 0; m < size(); ++m) {
    if (members_[m].pid <= 0) continue;
    EtcdOptions opts;
    opts.endpoints = {{"127.0.0.1", static_cast<std::uint16_t>(members_[m].client_port)}};
    opts.rounds = 1;
    auto gw = EtcdGateway::connect(opts);
    if (!gw) continue;
    auto status = (*gw)->call("/v3/maintenance/status", nlohmann::json::object(), Resend::Safe);
    if (!status) continue;
    const auto leader = status->value("leader", std::string());
    if (!leader.empty() && leader == (*status)["header"].value("member_id", std::string())) return m;
  }
  return -1;
}

}  // namespace blockd::ipam::testing
