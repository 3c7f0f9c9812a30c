// The control API's client side (ControlClient) and the vocabulary both sides share: error
// codes and JSON bodies. Apart from the server (control_api.cpp) so that blockd-ipam, which a
// runtime execs for every pod, links nothing but this and starts fast (agent/cni/CMakeLists.txt).
#include <sys/un.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "agent/control_api.hpp"

namespace blockd::agent {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = net::local::stream_protocol;
using json = nlohmann::json;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr std::uint64_t kResponseLimit = std::uint64_t{1} << 30;  // route tables may be large

}  // namespace

std::string json_body(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"; }

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::Invalid: return "Invalid";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::Conflict: return "Conflict";
    case ErrorCode::Exhausted: return "Exhausted";
    case ErrorCode::Unavailable: return "Unavailable";
    case ErrorCode::Internal: return "Internal";
  }
  return "Internal";
}

Result<ErrorCode> error_code_from_name(const std::string& name) {
  for (ErrorCode c : {ErrorCode::Invalid, ErrorCode::NotFound, ErrorCode::Conflict, ErrorCode::Exhausted,
                      ErrorCode::Unavailable, ErrorCode::Internal}) {
    if (name == error_code_name(c)) return c;
  }
  return invalid("unknown error code \"" + name + "\"");
}

unsigned http_status_of(ErrorCode code) {
  switch (code) {
    case ErrorCode::Invalid: return 400;
    case ErrorCode::NotFound: return 404;
    case ErrorCode::Conflict: return 409;
    case ErrorCode::Exhausted: return 507;
    case ErrorCode::Unavailable: return 503;
    case ErrorCode::Internal: return 500;
  }
  return 500;
}

ErrorCode error_code_of_http(unsigned status) {
  switch (status) {
    case 400: case 405: case 413: return ErrorCode::Invalid;
    case 404: return ErrorCode::NotFound;
    case 409: return ErrorCode::Conflict;
    case 507: return ErrorCode::Exhausted;
    case 503: return ErrorCode::Unavailable;
    default: return ErrorCode::Internal;
  }
}

ControlClient::ControlClient(std::string socket_path, int timeout_ms)
    : socket_path_(std::move(socket_path)), timeout_ms_(timeout_ms) {}

namespace {

Result<json> call(const std::string& path, int timeout_ms, http::verb verb, const std::string& target, const json* body) {
  const auto unreachable = [&](const std::string& why) {
    return unavailable("cannot reach blockd at " + path + ": " + why + " (is blockd running?)");
  };
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) return unreachable("the socket path is too long");
  net::io_context io;
  beast::basic_stream<local> stream(io);
  Request req{verb, target, 11};
  req.set(http::field::host, "blockd");
  req.set(http::field::user_agent, "blockd-client");
  if (body) {
    req.set(http::field::content_type, "application/json");
    req.body() = json_body(*body);
  }
  req.keep_alive(false);
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kResponseLimit);

  beast::error_code failure;
  const char* stage = "connect";
  stream.expires_after(std::chrono::milliseconds(timeout_ms));
  stream.async_connect(local::endpoint(path), [&](beast::error_code ec) {
    if (ec) {
      failure = ec;
      return;
    }
    stage = "send";
    http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
      if (ec) {
        failure = ec;
        return;
      }
      stage = "read";
      http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) { failure = ec; });
    });
  });
  io.run();

  if (failure == beast::error::timeout) {
    if (std::string_view(stage) == "connect") return unreachable("no answer within " + std::to_string(timeout_ms) + " ms");
    return unavailable("blockd at " + path + " did not answer " + target + " within " + std::to_string(timeout_ms) + " ms");
  }
  if (failure) {
    if (std::string_view(stage) == "connect") {
      if (failure == net::error::access_denied) {
        return unavailable("cannot reach blockd at " + path + ": " + failure.message() +
                           " (the socket is for root and blockd's group)");
      }
      return unreachable(failure.message());
    }
    return unavailable("blockd at " + path + ": " + target + ": " + stage + " failed: " + failure.message());
  }
  const Response& res = parser.get();
  const unsigned status = res.result_int();
  json answer = res.body().empty() ? json() : json::parse(res.body(), nullptr, false);
  if (status / 100 == 2) {
    if (answer.is_discarded()) return internal("blockd answered " + target + " with a body that is not JSON");
    return answer;
  }
  if (answer.is_object() && answer.contains("error") && answer["error"].is_string()) {
    ErrorCode code = error_code_of_http(status);
    if (answer.contains("code") && answer["code"].is_string()) {
      if (auto c = error_code_from_name(answer["code"].get<std::string>())) code = *c;
    }
    return Error{code, answer["error"].get<std::string>()};
  }
  return Error{error_code_of_http(status),
               "blockd answered " + target + " with HTTP " + std::to_string(status) + ": " + res.body().substr(0, 200)};
}

}  // namespace

Result<json> ControlClient::get(const std::string& target) {
  return call(socket_path_, timeout_ms_, http::verb::get, target, nullptr);
}

Result<json> ControlClient::post(const std::string& target, const json& body) {
  return call(socket_path_, timeout_ms_, http::verb::post, target, &body);
}

}  // namespace blockd::agent
