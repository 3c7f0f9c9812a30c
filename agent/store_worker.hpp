// A thread of its own for the calls that may block on the datastore (an allocation waiting
// out SQLite's busy timeout, an etcd request against a slow cluster), so that the agent's event
// loop, which runs BGP keepalives and hold timers and answers /v1/status, never waits on the
// store. One thread: calls run one at a time, in order (the allocator's cache is not shared
// between threads), each refused unstarted once its deadline has passed.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace blockd::agent {

class StoreWorker {
 public:
  using Clock = std::chrono::steady_clock;
  StoreWorker();
  ~StoreWorker();
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;

  // Runs call(true) on the worker thread, or call(false) there if it has not started by
  // `deadline` (the caller answers "busy" without touching the store).
  void post(Clock::time_point deadline, std::function<void(bool in_time)> call);
  // Lets the call that is running finish, drops the queued ones unrun, joins the thread.
  void stop();

 private:
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::thread thread_;
};

// Calls that may run as one (allocations: one datastore transaction for all): `post` queues an
// item, and the first item of a batch posts one run on the worker; when the worker reaches it,
// every item queued by then is handed to `run` together. No timer: a lone item waits for
// nothing, and a batch is what arrived while the worker was busy. `run` answers each item
// (its deadline, its caller) itself.
template <class Item>
class StoreBatch {
 public:
  using Run = std::function<void(std::vector<Item>)>;
  explicit StoreBatch(Run run) : state_(std::make_shared<State>(std::move(run))) {}

  void post(StoreWorker& worker, Item item) {
    std::lock_guard lock(state_->mu);
    state_->queued.push_back(std::move(item));
    if (state_->queued.size() > 1) return;  // the run posted for the first takes it too
    worker.post(StoreWorker::Clock::time_point::max(), [state = state_](bool) {
      std::vector<Item> batch;
      {
        std::lock_guard lock(state->mu);
        batch.swap(state->queued);
      }
      state->run(std::move(batch));
    });
  }

 private:
  struct State {
    explicit State(Run r) : run(std::move(r)) {}
    Run run;
    std::mutex mu;
    std::vector<Item> queued;
  };
  // Shared with the posted run, which may outlive the owner (the worker drops it unrun at stop).
  std::shared_ptr<State> state_;
};

}  // namespace blockd::agent
