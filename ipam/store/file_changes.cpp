#include "ipam/store/file_changes.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace blockd::ipam {

std::unique_ptr<FileChanges> FileChanges::watch(const std::string& folder, std::vector<std::string> names) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return nullptr;
  if (::inotify_add_watch(fd, folder.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<FileChanges>(new FileChanges(fd, std::move(names)));
}

FileChanges::~FileChanges() { ::close(fd_); }

bool FileChanges::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0)));
    if (n > 0 && drain()) return true;
    if (n < 0 && errno != EINTR) return true;  // cannot wait: let the caller look
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
}

bool FileChanges::drain() {
  alignas(inotify_event) char buf[4096];
  bool ours = false;
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return ours;
    for (ssize_t at = 0; at < n;) {
      inotify_event e;
      std::memcpy(&e, buf + at, sizeof e);
      const char* name = buf + at + sizeof e;
      if ((e.mask & IN_Q_OVERFLOW) != 0) ours = true;
      if (e.len > 0 && std::find(names_.begin(), names_.end(), std::string(name)) != names_.end()) ours = true;
      at += static_cast<ssize_t>(sizeof e + e.len);
    }
  }
}

}  // namespace blockd::ipam
