// The store worker's batches (agent/store_worker.hpp, StoreBatch): items queued while the
// worker is busy run together, a lone item runs at once (no timer), and a call that has not
// started by its deadline is told so.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <vector>

#include "agent/store_worker.hpp"

namespace blockd::agent {
namespace {

TEST(StoreWorker, ItemsQueuedWhileBusyRunAsOneBatchAndALoneItemRunsAtOnce) {
  StoreWorker worker;
  std::mutex mu;
  std::vector<std::vector<int>> runs;
  std::promise<void> ran_once, ran_twice;
  StoreBatch<int> batch([&](std::vector<int> items) {
    std::lock_guard lock(mu);
    runs.push_back(std::move(items));
    (runs.size() == 1 ? ran_once : ran_twice).set_value();
  });
  // Hold the worker until every item is queued.
  std::promise<void> release;
  auto released = release.get_future().share();
  worker.post(StoreWorker::Clock::time_point::max(), [released](bool) { released.wait(); });
  for (int i = 0; i < 5; ++i) batch.post(worker, i);
  release.set_value();
  ran_once.get_future().wait();
  // The worker is free now: one more item is a batch of its own, run without waiting for others.
  batch.post(worker, 5);
  ran_twice.get_future().wait();
  std::lock_guard lock(mu);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0], (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(runs[1], (std::vector<int>{5}));
}

TEST(StoreWorker, ACallPastItsDeadlineIsToldSoUnrun) {
  StoreWorker worker;
  std::promise<bool> in_time;
  worker.post(StoreWorker::Clock::now() - std::chrono::seconds(1), [&](bool t) { in_time.set_value(t); });
  EXPECT_FALSE(in_time.get_future().get());
}

}  // namespace
}  // namespace blockd::agent
