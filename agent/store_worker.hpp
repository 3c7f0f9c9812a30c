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
#include <optional>
#include <thread>

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

}  // namespace blockd::agent
