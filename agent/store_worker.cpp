#include "agent/store_worker.hpp"

#include <boost/asio/post.hpp>

namespace blockd::agent {

StoreWorker::StoreWorker() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}

StoreWorker::~StoreWorker() { stop(); }

void StoreWorker::post(Clock::time_point deadline, std::function<void(bool)> call) {
  boost::asio::post(io_, [deadline, call = std::move(call)] { call(Clock::now() < deadline); });
}

void StoreWorker::stop() {
  guard_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace blockd::agent
