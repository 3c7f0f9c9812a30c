#include "ipam/store/etcd_gateway.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "ipam/net/backoff.hpp"

namespace blockd::ipam {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;

// gRPC status codes etcd answers with (google.golang.org/grpc/codes).
constexpr int kInvalidArgument = 3;
constexpr int kNotFound = 5;
constexpr int kPermissionDenied = 7;
constexpr int kFailedPrecondition = 9;
constexpr int kOutOfRange = 11;
constexpr int kUnavailable = 14;
constexpr int kUnauthenticated = 16;

constexpr std::size_t kMaxIdle = 32;

// One HTTP/1.1 connection to one member, plain or TLS, with its own io_context so that every
// operation can run against a deadline from whichever thread holds the connection.
class Connection {
 public:
  Connection(std::size_t endpoint, ssl::context* tls) : endpoint_(endpoint) {
    if (tls != nullptr) tls_.emplace(ioc_, *tls);
    else plain_.emplace(ioc_);
  }
  ~Connection() {
    error_code ignored;
    lowest().socket().close(ignored);
  }

  std::size_t endpoint() const { return endpoint_; }
  asio::io_context& ioc() { return ioc_; }
  beast::flat_buffer& buffer() { return buffer_; }
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  template <class F>
  void with_stream(F&& f) {
    if (tls_) f(*tls_);
    else f(*plain_);
  }

  // Runs the queued operation to its end (each carries the stream's deadline).
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  Status open(const EtcdEndpoint& ep, Clock::time_point deadline) {
    error_code ec;
    tcp::resolver resolver(ioc_);
    auto addresses = resolver.resolve(ep.host, std::to_string(ep.port), ec);
    if (ec) return unavailable(ep.str() + ": cannot resolve " + ep.host + ": " + ec.message());
    lowest().expires_at(deadline);
    lowest().async_connect(addresses, [&](error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec) return unavailable(ep.str() + ": connect: " + ec.message());
    lowest().socket().set_option(tcp::no_delay(true), ec);
    lowest().socket().set_option(asio::socket_base::keep_alive(true), ec);
    // A member that vanishes without a FIN (power loss, partition) is noticed within about
    // 20 s even on an idle watch: 10 s idle, then 3 probes 3 s apart.
    const int fd = lowest().socket().native_handle();
    const int idle = 10, interval = 3, probes = 3;
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
    if (tls_) {
      // SNI only for names (RFC 6066 §3 forbids literal addresses); the certificate must name the host either way.
      error_code addr_ec;
      asio::ip::make_address(ep.host, addr_ec);
      if (addr_ec) SSL_set_tlsext_host_name(tls_->native_handle(), ep.host.c_str());
      tls_->set_verify_callback(ssl::host_name_verification(ep.host));
      tls_->async_handshake(ssl::stream_base::client, [&](error_code e) { ec = e; });
      run();
      if (ec) return unavailable(ep.str() + ": TLS handshake: " + ec.message());
    }
    return {};
  }

  // An idle keep-alive connection the member closed (restart, crash) reads as ready: drop it
  // rather than send a request into it.
  bool stale() {
    if (buffer_.size() > 0 || !lowest().socket().is_open()) return true;
    pollfd p{lowest().socket().native_handle(), POLLIN | POLLRDHUP, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  Status send(const http::request<http::string_body>& req, Clock::time_point deadline) {
    error_code ec;
    lowest().expires_at(deadline);
    with_stream([&](auto& s) { http::async_write(s, req, [&](error_code e, std::size_t) { ec = e; }); });
    run();
    if (ec) return unavailable("send: " + ec.message());
    return {};
  }

  Result<http::response<http::string_body>> receive(Clock::time_point deadline) {
    error_code ec;
    // A list of a whole cluster's blocks runs to many megabytes: no cap beyond Beast's default
    // of 8 MB but etcd's own limits.
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    lowest().expires_at(deadline);
    with_stream([&](auto& s) { http::async_read(s, buffer_, parser, [&](error_code e, std::size_t) { ec = e; }); });
    run();
    if (ec) return unavailable("no answer: " + ec.message());
    return parser.release();
  }

 private:
  std::size_t endpoint_;
  asio::io_context ioc_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
};

http::request<http::string_body> make_request(const EtcdEndpoint& ep, const std::string& path, std::string body,
                                              const std::string& token, bool require_leader = false) {
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, ep.str());
  req.set(http::field::content_type, "application/json");
  if (!token.empty()) req.set(http::field::authorization, token);
  // clientv3's WithRequireLeader, as gRPC metadata through the gateway: a member cut off from
  // its cluster ends the stream ("no leader") instead of keeping a silent, stale watch.
  if (require_leader) req.set("Grpc-Metadata-Hasleader", "true");
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

// The gRPC code and message of a refusal. Unary calls answer {"code":N,"message":...}, streams
// {"error":{"grpc_code":N,"message":...}}; a body without either keeps the HTTP status.
std::pair<int, std::string> refusal_of(const std::string& text, unsigned http_status) {
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) body = body["error"];
  int code = 0;
  std::string message;
  if (body.is_object()) {
    code = body.value("code", body.value("grpc_code", 0));
    message = body.value("message", std::string());
  }
  if (code == 0 && http_status == 503) code = kUnavailable;
  if (message.empty()) {
    message = "answered HTTP " + std::to_string(http_status) +
              ", not as etcd's v3 gateway does (is it an etcd 3.4+ client port?)";
  }
  return {code, message};
}

// etcd's refusal as our Error: the user's mistakes are Invalid, the rest Internal.
Error refusal(int code, const std::string& message) {
  switch (code) {
    case kInvalidArgument:
    case kPermissionDenied:
    case kUnauthenticated:
    case kFailedPrecondition:
      return invalid(message);
    case kNotFound:
    case kOutOfRange:
      return not_found(message);
    case kUnavailable:
      return unavailable(message);
    default:
      return internal(message);
  }
}

// The outcome of one try on one member.
struct Attempt {
  enum class Kind { Answered, NotSent, MaybeApplied, Refused } kind = Kind::NotSent;
  nlohmann::json body;
  int code = 0;         // Refused: the gRPC code
  std::string message;  // why, naming the member
};

// The causes, each once (every pass over the endpoints tends to repeat them).
std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (auto it = parts.begin(); it != parts.end(); ++it) {
    if (std::find(parts.begin(), it, *it) != it) continue;
    out += (out.empty() ? "" : "; ") + *it;
  }
  return out;
}

// A server stream: the gateway writes one JSON object per line of a chunked body.
class GatewayStream : public EtcdStream {
 public:
  GatewayStream(std::unique_ptr<Connection> conn, std::string where) : conn_(std::move(conn)), where_(std::move(where)) {
    parser_.body_limit(boost::none);
  }
  ~GatewayStream() override {
    error_code ignored;
    conn_->lowest().socket().close(ignored);
  }

  // Sends the request and reads the answer's header: a refusal comes back as one JSON error.
  Attempt start(const http::request<http::string_body>& req, Clock::time_point deadline) {
    if (auto s = conn_->send(req, deadline); !s) return {Attempt::Kind::NotSent, {}, 0, where_ + ": " + s.error().message};
    error_code ec;
    conn_->lowest().expires_at(deadline);
    conn_->with_stream([&](auto& s) {
      http::async_read_header(s, conn_->buffer(), parser_, [&](error_code e, std::size_t) { ec = e; });
    });
    conn_->run();
    if (ec) return {Attempt::Kind::NotSent, {}, 0, where_ + ": no answer: " + ec.message()};
    if (parser_.get().result() != http::status::ok) {
      conn_->with_stream([&](auto& s) {
        http::async_read(s, conn_->buffer(), parser_, [&](error_code e, std::size_t) { ec = e; });
      });
      conn_->run();
      auto [code, message] = refusal_of(parser_.get().body(), parser_.get().result_int());
      return {Attempt::Kind::Refused, {}, code, where_ + ": " + message};
    }
    conn_->lowest().expires_never();
    return {Attempt::Kind::Answered, {}, 0, {}};
  }

  Result<std::optional<nlohmann::json>> next(std::chrono::milliseconds timeout) override {
    const auto deadline = Clock::now() + timeout;
    while (ready_.empty() && !broken_) {
      if (!reading_) read_more();
      conn_->ioc().restart();
      // No time left (or none given): still take what has already arrived, waiting for nothing.
      const bool late = Clock::now() >= deadline;
      if ((late ? conn_->ioc().poll_one() : conn_->ioc().run_one_until(deadline)) == 0) break;
    }
    if (!ready_.empty()) {
      auto msg = std::move(ready_.front());
      ready_.pop_front();
      return std::optional<nlohmann::json>(std::move(msg));
    }
    if (broken_) return *broken_;
    return std::optional<nlohmann::json>{};
  }

 private:
  // One read stays outstanding across calls of next(), so a timeout never cuts a message.
  void read_more() {
    reading_ = true;
    conn_->with_stream([&](auto& s) {
      http::async_read_some(s, conn_->buffer(), parser_, [this](error_code ec, std::size_t) {
        reading_ = false;
        split_lines();
        if (ec) broken_ = unavailable(where_ + ": stream dropped: " + ec.message());
        else if (parser_.is_done()) broken_ = unavailable(where_ + ": the member ended the stream");
      });
    });
  }

  void split_lines() {
    auto& body = parser_.get().body();
    std::size_t start = 0;
    for (auto nl = body.find('\n'); nl != std::string::npos; nl = body.find('\n', start)) {
      std::string_view line(body.data() + start, nl - start);
      start = nl + 1;
      if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
      auto msg = nlohmann::json::parse(line, nullptr, false);
      if (msg.is_discarded()) {
        broken_ = internal(where_ + ": malformed stream message: " + std::string(line.substr(0, 200)));
        break;
      }
      ready_.push_back(std::move(msg));
    }
    body.erase(0, start);
  }

  std::unique_ptr<Connection> conn_;
  std::string where_;
  http::response_parser<http::string_body> parser_;
  std::deque<nlohmann::json> ready_;
  std::optional<Error> broken_;
  bool reading_ = false;
};

}  // namespace

struct EtcdGateway::Impl {
  EtcdOptions options;
  std::optional<ssl::context> tls;
  std::atomic<std::size_t> preferred{0};  // the member that answered last
  std::mutex mu;                          // guards idle and token
  std::vector<std::unique_ptr<Connection>> idle;
  std::string token;

  std::string current_token() {
    std::lock_guard lock(mu);
    return token;
  }

  std::unique_ptr<Connection> take(std::size_t ep) {
    std::lock_guard lock(mu);
    for (auto it = idle.begin(); it != idle.end();) {
      if ((*it)->endpoint() != ep) {
        ++it;
        continue;
      }
      auto conn = std::move(*it);
      it = idle.erase(it);
      if (!conn->stale()) return conn;
    }
    return nullptr;
  }

  void give_back(std::unique_ptr<Connection> conn) {
    std::lock_guard lock(mu);
    if (idle.size() < kMaxIdle) idle.push_back(std::move(conn));
  }

  std::unique_ptr<Connection> fresh(std::size_t ep, Clock::time_point deadline, std::string& why) {
    auto conn = std::make_unique<Connection>(ep, tls ? &*tls : nullptr);
    auto opened = conn->open(options.endpoints[ep], std::min(deadline, Clock::now() + options.dial_timeout));
    if (!opened) {
      why = opened.error().message;
      return nullptr;
    }
    return conn;
  }

  Attempt attempt(std::size_t ep, const std::string& path, const std::string& payload, const std::string& auth) {
    const auto& endpoint = options.endpoints[ep];
    const auto deadline = Clock::now() + options.request_timeout;
    auto conn = take(ep);
    if (!conn) {
      std::string why;
      conn = fresh(ep, deadline, why);
      if (!conn) return {Attempt::Kind::NotSent, {}, 0, why};
    }
    const auto req = make_request(endpoint, path, payload, auth);
    if (auto s = conn->send(req, deadline); !s) return {Attempt::Kind::NotSent, {}, 0, endpoint.str() + ": " + s.error().message};
    auto res = conn->receive(deadline);
    if (!res) return {Attempt::Kind::MaybeApplied, {}, 0, endpoint.str() + ": " + res.error().message};
    if (res->keep_alive()) give_back(std::move(conn));
    if (res->result() != http::status::ok) {
      auto [code, message] = refusal_of(res->body(), res->result_int());
      return {Attempt::Kind::Refused, {}, code, endpoint.str() + ": " + message};
    }
    auto body = nlohmann::json::parse(res->body(), nullptr, false);
    if (!body.is_object()) {
      return {Attempt::Kind::Refused, {}, -1, endpoint.str() + ": answered " + path + " with malformed JSON"};
    }
    return {Attempt::Kind::Answered, std::move(body), 0, {}};
  }

  // Authenticates against one member (etcd 3.4's simple tokens are only known to the member
  // that issued them, so a fail-over needs a new one).
  Status authenticate(std::size_t ep) {
    nlohmann::json body{{"name", options.username}, {"password", options.password}};
    auto a = attempt(ep, "/v3/auth/authenticate", body.dump(), "");
    if (a.kind == Attempt::Kind::Answered) {
      std::lock_guard lock(mu);
      token = a.body.value("token", std::string());
      return {};
    }
    if (a.kind == Attempt::Kind::Refused && a.code == kFailedPrecondition) return {};  // auth not enabled
    if (a.kind == Attempt::Kind::Refused && a.code != kUnavailable) {
      return refusal(a.code, "etcd authentication as \"" + options.username + "\" failed: " + a.message);
    }
    return unavailable(a.message);
  }

  // Tries the members in turn, starting with the one that answered last, for options.rounds
  // passes with a doubling backoff between passes. try_member(ep, failures) returns what to end
  // with, or nullopt to go on to the next member after noting in failures why this one failed.
  template <class T, class TryMember>
  Result<T> over_members(const std::string& path, const char* verb, TryMember try_member) {
    std::vector<std::string> failures;
    const std::size_t n = options.endpoints.size();
    for (int round = 0; round < options.rounds; ++round) {
      if (round > 0) {
        std::this_thread::sleep_for(doubling_backoff(options.backoff, round, std::chrono::milliseconds::max()));
      }
      const std::size_t first = preferred.load();
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t ep = (first + i) % n;
        if (std::optional<Result<T>> done = try_member(ep, failures)) return std::move(*done);
      }
    }
    return unavailable(options.describe() + " unavailable: no member " + verb + " " + path + " in " +
                       std::to_string(options.rounds) + " passes over " + std::to_string(n) +
                       " endpoint(s): " + join(failures));
  }

  Result<nlohmann::json> call(const std::string& path, const std::string& payload, Resend resend) {
    using Done = std::optional<Result<nlohmann::json>>;
    return over_members<nlohmann::json>(path, "answered", [&](std::size_t ep, std::vector<std::string>& failures) -> Done {
      auto a = attempt(ep, path, payload, current_token());
      if (a.kind == Attempt::Kind::Refused && a.code == kUnauthenticated && !options.username.empty()) {
        if (auto s = authenticate(ep); !s) {
          if (s.error().code != ErrorCode::Unavailable) return s.error();
          failures.push_back(s.error().message);
          return std::nullopt;
        }
        a = attempt(ep, path, payload, current_token());
      }
      switch (a.kind) {
        case Attempt::Kind::Answered:
          preferred = ep;
          return std::move(a.body);
        case Attempt::Kind::NotSent:
          failures.push_back(a.message);
          return std::nullopt;
        case Attempt::Kind::MaybeApplied:
          if (resend == Resend::Unsafe) {
            return unavailable(options.describe() + ": " + path + " " + a.message +
                               " after the request was sent, so it may or may not have been applied");
          }
          failures.push_back(a.message);
          return std::nullopt;
        case Attempt::Kind::Refused:
          // Unavailable: this member has no leader, lost it mid-request or is stopping;
          // another may serve. A write is sent again only when etcd refused it before
          // proposing it ("no leader", checked ahead of the request, as clientv3 retries).
          if (a.code == kUnavailable) {
            if (resend == Resend::Unsafe && a.message.find("no leader") == std::string::npos) {
              return unavailable(options.describe() + ": " + path + " " + a.message +
                                 " (the request may or may not have been applied)");
            }
            failures.push_back(a.message);
            return std::nullopt;
          }
          return refusal(a.code, "etcd refused " + path + " (" + a.message + ")");
      }
      return std::nullopt;
    });
  }

  Result<std::unique_ptr<EtcdStream>> stream(const std::string& path, const std::string& payload) {
    using Done = std::optional<Result<std::unique_ptr<EtcdStream>>>;
    return over_members<std::unique_ptr<EtcdStream>>(
        path, "accepted", [&](std::size_t ep, std::vector<std::string>& failures) -> Done {
          const auto deadline = Clock::now() + options.request_timeout;
          std::string why;
          auto conn = fresh(ep, deadline, why);  // a watch keeps its own connection
          if (!conn) {
            failures.push_back(why);
            return std::nullopt;
          }
          auto s = std::make_unique<GatewayStream>(std::move(conn), options.endpoints[ep].str());
          auto a = s->start(make_request(options.endpoints[ep], path, payload, current_token(), true), deadline);
          if (a.kind == Attempt::Kind::Answered) {
            preferred = ep;
            return std::unique_ptr<EtcdStream>(std::move(s));
          }
          if (a.kind == Attempt::Kind::Refused && a.code != kUnavailable) {
            return refusal(a.code, "etcd refused " + path + " (" + a.message + ")");
          }
          failures.push_back(a.message);
          return std::nullopt;
        });
  }
};

EtcdGateway::EtcdGateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EtcdGateway::~EtcdGateway() = default;

Result<std::shared_ptr<EtcdGateway>> EtcdGateway::connect(EtcdOptions options) {
  if (options.endpoints.empty()) return invalid("etcd: no endpoint given");
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const auto& o = impl->options;
  if (o.tls()) {
    for (const auto* file : {&o.cacert, &o.cert, &o.key}) {
      if (!file->empty() && !std::filesystem::exists(*file)) {
        return invalid(o.describe() + ": TLS file \"" + *file + "\" does not exist");
      }
    }
    auto& ctx = impl->tls.emplace(ssl::context::tls_client);
    error_code ec;
    ctx.set_verify_mode(ssl::verify_peer);
    if (!o.cacert.empty()) ctx.load_verify_file(o.cacert, ec);
    else ctx.set_default_verify_paths(ec);
    if (ec) return invalid(o.describe() + ": cannot load CA certificate \"" + o.cacert + "\": " + ec.message());
    if (!o.cert.empty()) {
      ctx.use_certificate_chain_file(o.cert, ec);
      if (ec) return invalid(o.describe() + ": cannot load client certificate \"" + o.cert + "\": " + ec.message());
      ctx.use_private_key_file(o.key, ssl::context::pem, ec);
      if (ec) return invalid(o.describe() + ": cannot load client key \"" + o.key + "\": " + ec.message());
    }
  }
  std::shared_ptr<EtcdGateway> gateway(new EtcdGateway(std::move(impl)));
  if (!gateway->impl_->options.username.empty()) {
    if (auto s = gateway->refresh_token(); !s) return s.error();
  }
  return gateway;
}

Status EtcdGateway::refresh_token() {
  std::vector<std::string> failures;
  const std::size_t n = impl_->options.endpoints.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t ep = (impl_->preferred.load() + i) % n;
    auto s = impl_->authenticate(ep);
    if (s) {
      impl_->preferred = ep;
      return {};
    }
    if (s.error().code != ErrorCode::Unavailable) return s;
    failures.push_back(s.error().message);
  }
  return unavailable(describe() + " unavailable: no member answered /v3/auth/authenticate: " + join(failures));
}

Result<nlohmann::json> EtcdGateway::call(const std::string& path, const nlohmann::json& body, Resend resend) {
  return impl_->call(path, body.dump(), resend);
}

Result<std::unique_ptr<EtcdStream>> EtcdGateway::stream(const std::string& path, const nlohmann::json& body) {
  return impl_->stream(path, body.dump());
}

const EtcdOptions& EtcdGateway::options() const { return impl_->options; }
std::string EtcdGateway::describe() const { return impl_->options.describe(); }

}  // namespace blockd::ipam
