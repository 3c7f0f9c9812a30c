// One allocating agent for the multi-process etcd tests and benchmarks:
//   etcd_allocation_driver URL ID COUNT NODE
// allocates COUNT addresses for handles a<ID>-<i> on NODE, releasing every odd one at once, and
// prints "A <handle> <address>" after each allocation and "R <handle>" after each release, then
// "DONE errors=<n>". While the store is unavailable it retries (printing each error on stderr),
// and after an allocation that failed it releases the handle first, as a CNI runtime sends DEL
// after a failed ADD: the failed attempt may have been applied. It gives up (exit 3) after 60 s
// without progress or on any other error.
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "ipam/allocator.hpp"
#include "tests/support/ipam/test_pool.hpp"

using namespace blockd;
using namespace blockd::ipam;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<IPPool> pools() { return {testing::test_pool()}; }

int errors = 0;

// Runs op until it succeeds; Unavailable is retried for up to 60 s, anything else is fatal.
template <class Op>
auto until_done(const char* what, const std::string& handle, Op op, const std::function<void()>& after_failure = {}) {
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (true) {
    auto r = op();
    if (r) return r;
    std::fprintf(stderr, "E %s %s: %s\n", what, handle.c_str(), r.error().message.c_str());
    if (r.error().code != ErrorCode::Unavailable || Clock::now() > give_up) {
      std::fprintf(stderr, "FATAL %s %s\n", what, handle.c_str());
      std::exit(3);
    }
    ++errors;
    if (after_failure) after_failure();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s URL ID COUNT NODE\n", argv[0]);
    return 1;
  }
  auto store = open_datastore(argv[1]);
  if (!store) {
    std::fprintf(stderr, "FATAL %s\n", store.error().message.c_str());
    return 2;
  }
  const std::string id = argv[2];
  const int count = std::stoi(argv[3]);
  const AllocationContext ctx{argv[4], {}, pools()};
  Allocator allocator(**store);
  for (int i = 0; i < count; ++i) {
    const std::string handle = "a" + id + "-" + std::to_string(i);
    auto release = [&] { return allocator.release_handle(handle); };
    auto a = until_done("allocate", handle, [&] { return allocator.allocate(ctx, {handle, Family::V4, {}}); },
                        [&] { (void)until_done("release-after-failure", handle, release); });
    std::printf("A %s %s\n", handle.c_str(), a->address.str().c_str());
    std::fflush(stdout);
    if (i % 2 == 1) {
      (void)until_done("release", handle, release);
      std::printf("R %s\n", handle.c_str());
      std::fflush(stdout);
    }
  }
  std::printf("DONE errors=%d\n", errors);
  return 0;
}
