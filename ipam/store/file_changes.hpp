// Wakes a reader when some files of one folder are written (Linux inotify on the folder,
// filtered by file name). The folder, not the files: SQLite deletes a store's -wal file when its
// last connection closes and creates it again with the next, which a watch on the file would
// not survive.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace blockd::ipam {

class FileChanges {
 public:
  // Null when inotify is unavailable (fs.inotify.max_user_instances reached, a kernel
  // without it): the caller falls back to polling.
  static std::unique_ptr<FileChanges> watch(const std::string& folder, std::vector<std::string> names);
  ~FileChanges();
  FileChanges(const FileChanges&) = delete;
  FileChanges& operator=(const FileChanges&) = delete;

  // Blocks at most `timeout`; true when one of the files was written (or created, or moved in)
  // meanwhile, or when the kernel dropped events (queue overflow) and any may have been.
  bool wait(std::chrono::milliseconds timeout);

 private:
  FileChanges(int fd, std::vector<std::string> names) : fd_(fd), names_(std::move(names)) {}
  bool drain();  // reads every queued event; true if one concerns our files
  int fd_;
  std::vector<std::string> names_;
};

}  // namespace blockd::ipam
