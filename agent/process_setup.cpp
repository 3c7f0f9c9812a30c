#include "agent/process_setup.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <system_error>

#include "agent/printable.hpp"

namespace blockd::agent {
namespace {

class EscapedMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string text = printable(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<EscapedMessage>(); }
};

}  // namespace

void use_escaping_log_format() {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<EscapedMessage>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %*");
  spdlog::set_formatter(std::move(formatter));
}

std::string raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return "open files limit unknown: getrlimit: " + std::error_code(errno, std::generic_category()).message();
  }
  if (limit.rlim_cur >= limit.rlim_max) return "open files limit " + std::to_string(limit.rlim_cur);
  const auto before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return "open files limit stays " + std::to_string(before) +
           ": setrlimit: " + std::error_code(errno, std::generic_category()).message();
  }
  return "open files limit raised from " + std::to_string(before) + " to " + std::to_string(limit.rlim_max);
}

}  // namespace blockd::agent
