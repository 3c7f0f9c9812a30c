// Real etcd members for integration tests: started on loopback ports found free at run time,
// data in a temporary folder, killed by PID when the object goes (also when a test fails; the
// members also die with the test process, PR_SET_PDEATHSIG).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace blockd::ipam::testing {

class EtcdCluster {
 public:
  // extra_args go to every member; client_query ("?cacert=...") is what clients add to the URL.
  explicit EtcdCluster(int members = 1, std::vector<std::string> extra_args = {}, std::string client_query = "");
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  std::string url() const;                // etcd://127.0.0.1:P0,127.0.0.1:P1,...[client_query]
  std::string endpoint(int member) const;  // 127.0.0.1:P
  std::string client_url(int member) const;  // http(s)://127.0.0.1:P
  const std::filesystem::path& dir() const { return dir_; }

  // Stops a member with a signal (SIGKILL: a crash) and reaps it.
  void stop(int member, int signal = SIGKILL);
  // Starts a stopped member again on the same ports and data.
  void start(int member);
  // Waits until the member answers a read (throws with its log's tail if it never does).
  void wait_ready(int member) const;
  bool running(int member) const { return members_[member].pid > 0; }
  pid_t pid(int member) const { return members_[member].pid; }  // for its CPU and memory
  std::string log_tail(int member) const;
  // The index of the member that leads the raft group now, or -1.
  int leader() const;

  static int free_port();

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
  };
  std::vector<std::string> args(int member) const;
  std::filesystem::path dir_;
  std::vector<Member> members_;
  std::vector<std::string> extra_;
  std::string query_;
  bool tls_ = false;
};

}  // namespace blockd::ipam::testing
