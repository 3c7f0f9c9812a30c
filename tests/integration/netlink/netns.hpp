// Network namespaces for the netlink integration tests: created with `ip netns add` under a
// unique name (PID + counter), deleted in the destructor (also when an assertion fails), and
// leftovers of crashed runs (a PID no longer alive) removed at start.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace blockd::netlink::test {

struct CommandResult {
  int status;
  std::string output;  // stdout and stderr
};

inline CommandResult run(const std::string& cmd) {
  CommandResult r{0, {}};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::array<char, 4096> buf{};
  while (std::size_t n = fread(buf.data(), 1, buf.size(), p)) r.output.append(buf.data(), n);
  r.status = pclose(p);
  return r;
}

// Runs a command that must succeed (a broken fixture is a failed test, never a skip).
inline std::string must(const std::string& cmd) {
  auto r = run(cmd);
  if (r.status != 0) throw std::runtime_error("command failed: " + cmd + "\n" + r.output);
  return r.output;
}

// The lines of `text`, trailing blanks removed, empty lines dropped.
inline std::set<std::string> lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    while (!l.empty() && (l.back() == ' ' || l.back() == '\r')) l.pop_back();
    if (!l.empty()) out.insert(l);
  }
  return out;
}

inline constexpr const char* kPrefix = "blockd-nl-";

// Deletes namespaces of earlier runs whose process is gone.
inline void remove_stale_namespaces() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string name = e.path().filename();
    if (name.rfind(kPrefix, 0) != 0) continue;
    const auto rest = name.substr(std::char_traits<char>::length(kPrefix));
    const pid_t pid = static_cast<pid_t>(std::atol(rest.c_str()));
    if (pid > 0 && kill(pid, 0) != 0) run("ip netns del " + name);
  }
}

class Netns {
 public:
  explicit Netns(const std::string& tag) {
    static int counter = 0;
    static const bool cleaned = (remove_stale_namespaces(), true);
    (void)cleaned;
    name_ = std::string(kPrefix) + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" + tag;
    must("ip netns add " + name_);
    must(ip("link set lo up"));
  }
  ~Netns() { run("ip netns del " + name_); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }
  // `ip -n NAME ARGS`.
  std::string ip(const std::string& args) const { return "ip -n " + name_ + " " + args; }
  std::string exec(const std::string& cmd) const { return "ip netns exec " + name_ + " " + cmd; }

  // Runs f in a thread that entered this namespace; sockets f opens stay in it.
  template <class F>
  auto enter(F f) const -> decltype(f()) {
    using R = decltype(f());
    std::optional<R> result;
    std::string error;
    std::thread t([&] {
      const int fd = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        error = "cannot enter namespace " + name_;
        if (fd >= 0) ::close(fd);
        return;
      }
      ::close(fd);
      result.emplace(f());
    });
    t.join();
    if (!result) throw std::runtime_error(error);
    return std::move(*result);
  }

 private:
  std::string name_;
};

}  // namespace blockd::netlink::test
