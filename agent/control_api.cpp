#include "agent/control_api.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <list>
#include <optional>

#include "agent/store_worker.hpp"

namespace blockd::agent {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = net::local::stream_protocol;
using json = nlohmann::json;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr std::size_t kBodyLimit = 1 << 20;    // requests are small JSON objects
constexpr std::size_t kHeaderLimit = 16 << 10;

Response json_response(unsigned status, const json& body, unsigned version, bool keep_alive) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "blockd");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = json_body(body);
  res.prepare_payload();
  return res;
}

Response error_response(const Error& e, unsigned version, bool keep_alive, unsigned status = 0) {
  return json_response(status ? status : http_status_of(e.code), json{{"error", e.message}, {"code", error_code_name(e.code)}},
                       version, keep_alive);
}

// Each listener's own budget (control_api.hpp, Limits): the metrics port, open to every local
// user, can never take the descriptors or the connections the control socket needs.
struct ListenerLimits {
  std::size_t max_connections;
  std::chrono::seconds idle_timeout;  // waiting for a request, and for the answer to be read
};
constexpr ListenerLimits kControlLimits{128, std::chrono::seconds(10)};
constexpr ListenerLimits kMetricsLimits{16, std::chrono::seconds(5)};
// A store call still queued this long after its request arrived is answered 503 unrun: its
// caller (ControlClient waits 30 s) is about to give up, and a late ADD would leak its address.
constexpr auto kStoreCallDeadline = std::chrono::seconds(25);

using Clock = std::chrono::steady_clock;

// How a handler answers a request, now or later from another thread.
struct Call {
  // Set on the io thread when the caller hangs up before its answer is ready.
  std::shared_ptr<std::atomic<bool>> client_gone;
  // Sends the answer (from any thread); `undelivered` runs on the io thread if it cannot reach
  // the caller.
  std::function<void(Response, std::function<void()> undelivered)> reply;
};
using Responder = std::function<void(const Request&, const Call&)>;

// One HTTP/1.1 connection: read a request, answer it, again while the client keeps it alive.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void close() = 0;
  virtual bool closed() const = 0;
  // Since when it has been waiting for a request; none while it reads or answers one.
  virtual std::optional<Clock::time_point> idle_since() const = 0;
};

template <class Protocol>
class HttpSession : public SessionBase, public std::enable_shared_from_this<HttpSession<Protocol>> {
 public:
  using Stream = beast::basic_stream<Protocol>;
  HttpSession(typename Protocol::socket socket, Responder respond, std::chrono::seconds idle_timeout)
      : stream_(std::move(socket)), respond_(std::move(respond)), idle_timeout_(idle_timeout) {}

  void run() { read(); }
  void close() override {
    if (closed_) return;
    closed_ = true;
    idle_ = false;
    beast::error_code ignored;
    stream_.socket().shutdown(Protocol::socket::shutdown_both, ignored);
    stream_.close();
  }
  bool closed() const override { return closed_; }
  std::optional<Clock::time_point> idle_since() const override {
    return idle_ ? std::optional<Clock::time_point>(idle_since_) : std::nullopt;
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    parser_->header_limit(kHeaderLimit);
    idle_ = true;
    idle_since_ = Clock::now();
    stream_.expires_after(idle_timeout_);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    idle_ = false;
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset || ec == net::error::bad_descriptor) {
      return close();
    }
    if (ec) {
      // Whatever a caller sends, it gets an answer naming the problem, never a crash.
      const bool too_large = ec == http::error::body_limit || ec == http::error::header_limit;
      response_ = error_response(invalid(too_large ? "request too large (" + ec.message() +
                                                         "; headers up to 16 KiB, bodies up to 1 MiB)"
                                                   : "malformed HTTP request: " + ec.message()),
                                 11, false, too_large ? 413 : 400);
      return write({});
    }
    const Request& req = parser_->get();
    request_keep_alive_ = req.keep_alive();
    stream_.expires_never();  // the handler's time is bounded by the store's deadline, not here
    auto gone = std::make_shared<std::atomic<bool>>(false);
    watch_hangup(gone);
    Call call{gone, [self = this->shared_from_this(), gone](Response res, std::function<void()> undelivered) {
                net::post(self->stream_.get_executor(),
                          [self, gone, res = std::move(res), undelivered = std::move(undelivered)]() mutable {
                            self->answer(std::move(res), std::move(undelivered), *gone);
                          });
              }};
    try {
      respond_(req, call);
    } catch (const std::exception& e) {
      call.reply(error_response(internal(std::string("handler failed: ") + e.what()), req.version(), req.keep_alive()), {});
    }
  }

  // While the answer is being prepared: a caller that hangs up (Unix: POLLHUP once its end is
  // closed) is remembered, so a queued store call is skipped and a finished one rolled back. A
  // pipelined request or a half-close only ends the watch.
  void watch_hangup(const std::shared_ptr<std::atomic<bool>>& gone) {
    waiting_ = true;
    stream_.socket().async_wait(Protocol::socket::wait_read, [self = this->shared_from_this(), gone](beast::error_code ec) {
      if (ec || !self->waiting_ || self->closed_) return;
      pollfd p{self->stream_.socket().native_handle(), POLLIN | POLLRDHUP, 0};
      if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR))) *gone = true;
    });
  }

  void answer(Response res, std::function<void()> undelivered, bool gone) {
    waiting_ = false;
    if (gone || closed_) {
      if (undelivered) undelivered();
      return close();
    }
    beast::error_code ignored;
    stream_.socket().cancel(ignored);  // the hang-up watch
    response_ = std::move(res);
    response_.keep_alive(request_keep_alive_ && response_.keep_alive());
    write(std::move(undelivered));
  }

  void write(std::function<void()> undelivered) {
    response_.prepare_payload();
    stream_.expires_after(idle_timeout_);
    http::async_write(stream_, response_, [self = this->shared_from_this(), undelivered = std::move(undelivered)](
                                              beast::error_code ec, std::size_t) {
      if (ec) {
        if (undelivered) undelivered();
        return self->close();
      }
      if (!self->response_.keep_alive()) return self->close();
      self->read();
    });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
  Responder respond_;
  std::chrono::seconds idle_timeout_;
  bool request_keep_alive_ = false;
  bool waiting_ = false;
  bool idle_ = false;
  bool closed_ = false;
  Clock::time_point idle_since_;
};

// A listener's open connections, at most `cap` of them.
class SessionList {
 public:
  explicit SessionList(std::size_t cap) : cap_(cap) {}
  std::size_t cap() const { return cap_; }
  void add(const std::shared_ptr<SessionBase>& s) { sessions_.push_back(s); }
  // Room for one more: at the cap, the connection idle longest is closed. False when every
  // connection is busy with a request (the newcomer is refused).
  bool make_room() {
    prune();
    if (sessions_.size() < cap_) return true;
    return close_oldest_idle();
  }
  bool close_oldest_idle() {
    std::shared_ptr<SessionBase> oldest;
    Clock::time_point since = Clock::time_point::max();
    for (auto& w : sessions_) {
      auto s = w.lock();
      if (!s) continue;
      if (auto t = s->idle_since(); t && *t < since) {
        since = *t;
        oldest = s;
      }
    }
    if (!oldest) return false;
    oldest->close();
    prune();
    return true;
  }
  void close_all() {
    for (auto& w : sessions_) {
      if (auto s = w.lock()) s->close();
    }
    sessions_.clear();
  }

 private:
  void prune() {
    std::erase_if(sessions_, [](const auto& w) {
      auto s = w.lock();
      return !s || s->closed();
    });
  }
  std::size_t cap_;
  std::list<std::weak_ptr<SessionBase>> sessions_;
};

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Response answer(const Result<json>& r, const Request& req) {
  if (!r) return error_response(r.error(), req.version(), req.keep_alive());
  return json_response(200, *r, req.version(), req.keep_alive());
}

Result<json> body_object(std::string_view target, const Request& req) {
  json body = json::parse(req.body(), nullptr, false);
  if (body.is_discarded()) return invalid(std::string(target) + ": request body is not valid JSON");
  if (!body.is_object()) return invalid(std::string(target) + ": request body must be a JSON object");
  return body;
}

// Endpoints of control_api.hpp onto the handler.
Response route(ControlHandler& handler, const Request& req) {
  std::string_view target(req.target().data(), req.target().size());
  target = target.substr(0, target.find('?'));
  const bool get = req.method() == http::verb::get;
  const bool post = req.method() == http::verb::post;
  auto wrong_method = [&](const char* allowed) {
    Response res = error_response(invalid(std::string(req.method_string().data(), req.method_string().size()) + " " + std::string(target) +
                                          ": method not allowed (use " + allowed + ")"),
                                  req.version(), req.keep_alive(), 405);
    res.set(http::field::allow, allowed);
    return res;
  };

  if (target == "/v1/status") return get ? answer(handler.status(), req) : wrong_method("GET");
  if (target == "/v1/peers") return get ? answer(handler.peers(), req) : wrong_method("GET");
  for (const char* which : {"advertised", "received", "kernel"}) {
    if (target == std::string("/v1/routes/") + which) return get ? answer(handler.routes(which), req) : wrong_method("GET");
  }
  if (target == "/v1/ipam/allocate" || target == "/v1/ipam/release") {
    if (!post) return wrong_method("POST");
    auto body = body_object(target, req);
    if (!body) return answer(body.error(), req);
    return answer(target == "/v1/ipam/allocate" ? handler.allocate(*body) : handler.release(*body), req);
  }
  constexpr std::string_view kHandles = "/v1/ipam/handles/";
  if (target.starts_with(kHandles) && target.size() > kHandles.size()) {
    return get ? answer(handler.handle(percent_decode(target.substr(kHandles.size()))), req) : wrong_method("GET");
  }
  return error_response(not_found("no endpoint " + std::string(target) + " (see agent/control_api.hpp)"), req.version(),
                        req.keep_alive());
}

bool touches_store(const Request& req) {
  const std::string_view target(req.target().data(), req.target().size());
  return target.starts_with("/v1/ipam/");
}

Response route_guarded(ControlHandler& handler, const Request& req) {
  try {
    return route(handler, req);
  } catch (const std::exception& e) {
    return error_response(internal(std::string("handler failed: ") + e.what()), req.version(), req.keep_alive());
  }
}

// A store call the worker reached: answered without running when the server stopped, the
// caller hung up, or it waited past its deadline. True when it was answered so.
bool answered_unrun(const std::shared_ptr<const std::atomic<bool>>& open, const Request& req, const Call& call,
                    bool in_time) {
  if (!*open) return call.reply(error_response(unavailable("blockd is shutting down"), req.version(), false), {}), true;
  if (*call.client_gone) return call.reply(Response{}, {}), true;  // nobody to answer: nothing done
  if (in_time) return false;
  call.reply(error_response(unavailable("blockd's datastore is busy: the request waited more than " +
                                        std::to_string(kStoreCallDeadline.count()) + " s to start"),
                            req.version(), req.keep_alive()),
             {});
  return true;
}

// Replies with an allocate answer; if it cannot reach its caller, the addresses are given back.
void reply_allocation(ControlHandler& handler, StoreWorker* worker, const std::shared_ptr<const std::atomic<bool>>& open,
                      Response res, const Call& call) {
  std::function<void()> undelivered;
  if (res.result() == http::status::ok) {
    undelivered = [&handler, worker, open, answer = json::parse(res.body(), nullptr, false)] {
      worker->post(Clock::time_point::max(), [&handler, open, answer](bool) {
        if (*open) handler.allocation_undelivered(answer);
      });
    };
  }
  call.reply(std::move(res), std::move(undelivered));
}

// An allocate request waiting for the store worker with the others that arrive meanwhile.
struct QueuedAllocation {
  Request req;
  Call call;
  Clock::time_point deadline;
  json body;
};
using AllocationBatch = StoreBatch<QueuedAllocation>;

// On the worker: the allocations queued together, answered each on its own, run as one
// (ControlHandler::allocate_many).
void run_allocations(ControlHandler& handler, const std::shared_ptr<const std::atomic<bool>>& open,
                     std::vector<QueuedAllocation> queued) {
  std::vector<QueuedAllocation*> running;
  std::vector<json> bodies;
  for (auto& q : queued) {
    if (answered_unrun(open, q.req, q.call, Clock::now() < q.deadline)) continue;
    running.push_back(&q);
    bodies.push_back(std::move(q.body));
  }
  if (running.empty()) return;
  std::vector<Result<json>> answers;
  try {
    answers = handler.allocate_many(bodies);
  } catch (const std::exception& e) {
    answers.assign(running.size(), internal(std::string("handler failed: ") + e.what()));
  }
  for (std::size_t i = 0; i < running.size(); ++i) {
    const Request& req = running[i]->req;
    Response res = i < answers.size() ? answer(answers[i], req)
                                      : error_response(internal("allocation left unanswered"), req.version(), false);
    reply_allocation(handler, handler.store_worker(), open, std::move(res), running[i]->call);
  }
}

// The IPAM endpoints wait on the datastore: with a store worker they run on its thread, each
// with a deadline to start, and an allocation the caller never received is given back.
// Allocations that queue while the worker is busy run together (`allocations`).
// `open` says whether the server still serves (false after stop(): the handler may be gone).
void dispatch(ControlHandler& handler, const std::shared_ptr<const std::atomic<bool>>& open, const Request& req,
              const Call& call, AllocationBatch& allocations) {
  StoreWorker* worker = handler.store_worker();
  if (!worker || !touches_store(req)) return call.reply(route(handler, req), {});
  const std::string_view target(req.target().data(), req.target().size());
  if (target == "/v1/ipam/allocate" && req.method() == http::verb::post) {
    // A malformed body is answered by route(), as before.
    if (auto body = body_object(target, req)) {
      return allocations.post(*worker, QueuedAllocation{req, call, Clock::now() + kStoreCallDeadline, std::move(*body)});
    }
  }
  worker->post(Clock::now() + kStoreCallDeadline, [&handler, worker, open, req, call](bool in_time) {
    if (answered_unrun(open, req, call, in_time)) return;
    Response res = route_guarded(handler, req);
    if (req.target() == "/v1/ipam/allocate") return reply_allocation(handler, worker, open, std::move(res), call);
    call.reply(std::move(res), {});
  });
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

// The socket file: a live agent's is left alone; a stale one (nobody accepting) is replaced.
Status prepare_socket_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  if (p.has_parent_path()) {
    fs::create_directories(p.parent_path(), ec);
    if (ec) return unavailable("control.socket " + path + ": cannot create folder " + p.parent_path().string() + ": " + ec.message());
  }
  const auto st = fs::symlink_status(p, ec);
  if (ec || !fs::exists(st)) return {};
  if (!fs::is_socket(st)) return invalid("control.socket " + path + ": exists and is not a socket");
  net::io_context io;
  local::socket probe(io);
  beast::error_code connect_ec;
  probe.connect(local::endpoint(path), connect_ec);
  if (!connect_ec) return conflict("control.socket " + path + ": another process (a running blockd?) is listening on it");
  fs::remove(p, ec);
  if (ec) return unavailable("control.socket " + path + ": cannot remove the stale socket: " + ec.message());
  return {};
}

}  // namespace

bool caller_allowed(unsigned caller_uid, unsigned own_uid) { return caller_uid == 0 || caller_uid == own_uid; }

// What the control and metrics servers share: the acceptor, its own accept loop and connection
// cap, the open sessions, and closing all of them. A failed accept (EMFILE, ENFILE, ...) backs
// off from 10 ms to 1 s, gives a descriptor back by closing the connection idle longest, and is
// logged once per burst, as are connections refused at the cap.
// Server (CRTP) gives serve(socket) and name(), and derives from enable_shared_from_this.
template <class Protocol, class Server>
struct Listener {
  Listener(net::io_context& io, ListenerLimits limits)
      : acceptor(io), retry(io), limits(limits), sessions(limits.max_connections) {}

  void accept() {
    acceptor.async_accept([self = static_cast<Server*>(this)->shared_from_this()](beast::error_code ec,
                                                                                 typename Protocol::socket socket) {
      if (ec == net::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec) return self->accept_failed(ec);
      if (self->failed_accepts > 0) {
        spdlog::info("{}: accepting again after {} failed accepts", self->name(), self->failed_accepts);
        self->failed_accepts = 0;
      }
      if (!self->sessions.make_room()) {
        if (self->refused++ == 0) {
          spdlog::warn("{}: {} connections, every one busy with a request: refusing new ones until one ends",
                       self->name(), self->sessions.cap());
        }
      } else {
        if (self->refused > 0) spdlog::info("{}: serving again after refusing {} connections", self->name(), self->refused);
        self->refused = 0;
        self->serve(std::move(socket));
      }
      self->accept();
    });
  }

  void accept_failed(const beast::error_code& ec) {
    if (failed_accepts++ == 0) {
      spdlog::warn("{}: accept failed: {} (retrying with back-off; logged again once accepts recover)", name(),
                   ec.message());
    }
    if (ec.value() == EMFILE || ec.value() == ENFILE) sessions.close_oldest_idle();
    backoff = failed_accepts == 1 ? std::chrono::milliseconds(10) : std::min(backoff * 2, std::chrono::milliseconds(1000));
    retry.expires_after(backoff);
    retry.async_wait([self = static_cast<Server*>(this)->shared_from_this()](beast::error_code e) {
      if (!e) self->accept();
    });
  }

  std::string name() const { return static_cast<const Server*>(this)->name(); }

  void close() {
    *listening = false;
    beast::error_code ec;
    acceptor.close(ec);
    retry.cancel();
    sessions.close_all();
  }

  typename Protocol::acceptor acceptor;
  net::steady_timer retry;
  ListenerLimits limits;
  SessionList sessions;
  // Read by store calls on the worker thread: a request queued before stop() is not run after.
  std::shared_ptr<std::atomic<bool>> listening = std::make_shared<std::atomic<bool>>(false);
  std::uint64_t failed_accepts = 0, refused = 0;
  std::chrono::milliseconds backoff{10};
};

// --- ControlServer ---------------------------------------------------------------------------

struct ControlServer::Impl : Listener<local, ControlServer::Impl>, std::enable_shared_from_this<ControlServer::Impl> {
  Impl(net::io_context& io, ControlHandler& handler, std::string path)
      : Listener(io, kControlLimits),
        io(io),
        handler(handler),
        path(std::move(path)),
        allocations([&handler, open = std::shared_ptr<const std::atomic<bool>>(listening)](
                        std::vector<QueuedAllocation> q) { run_allocations(handler, open, std::move(q)); }) {}

  std::string name() const { return "control API " + path; }

  void serve(local::socket socket) {
    ucred cred{};
    socklen_t len = sizeof cred;
    // A request already read when stop() ran must not reach a handler that may be gone.
    Responder respond = [self = shared_from_this()](const Request& req, const Call& call) {
      if (!*self->listening) {
        return call.reply(error_response(unavailable("blockd is shutting down"), req.version(), false), {});
      }
      dispatch(self->handler, self->listening, req, call, self->allocations);
    };
    if (getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
      spdlog::warn("control API {}: refused a caller: SO_PEERCRED failed: {}", path, errno_text(errno));
      return;  // the socket closes as it goes out of scope
    }
    if (!caller_allowed(cred.uid, ::geteuid())) {
      spdlog::warn("control API {}: refused pid {} uid {} (only root and uid {} may call blockd)", path, cred.pid,
                   cred.uid, ::geteuid());
      const std::string msg = "blockd accepts only root and uid " + std::to_string(::geteuid()) + " (this caller is uid " +
                              std::to_string(cred.uid) + ")";
      respond = [msg](const Request& req, const Call& call) {
        call.reply(error_response(invalid(msg), req.version(), false, 403), {});
      };
    }
    auto session = std::make_shared<HttpSession<local>>(std::move(socket), std::move(respond), limits.idle_timeout);
    sessions.add(session);
    session->run();
  }

  net::io_context& io;
  ControlHandler& handler;
  std::string path;
  AllocationBatch allocations;  // the allocate requests waiting for the store worker
};

ControlServer::ControlServer(net::io_context& io, ControlHandler& handler, std::string socket_path)
    : impl_(std::make_shared<Impl>(io, handler, std::move(socket_path))) {}

ControlServer::~ControlServer() { stop(); }

Status ControlServer::start() {
  Impl& s = *impl_;
  if (*s.listening) return {};
  if (s.path.empty()) return invalid("control.socket: must not be empty");
  if (s.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return invalid("control.socket " + s.path + ": longer than the " + std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                   " characters a Unix socket path may have");
  }
  if (auto ok = prepare_socket_path(s.path); !ok) return ok;
  beast::error_code ec;
  s.acceptor.open(local(), ec);
  if (!ec) s.acceptor.bind(local::endpoint(s.path), ec);
  if (ec) {
    s.acceptor.close(ec);
    return unavailable("control.socket " + s.path + ": cannot bind: " + ec.message());
  }
  // Mode 0660 before listen(): until then nobody can connect, so there is no window with a wider mode.
  if (::chmod(s.path.c_str(), 0660) != 0) {
    const int err = errno;
    s.acceptor.close(ec);
    return unavailable("control.socket " + s.path + ": chmod 0660 failed: " + errno_text(err));
  }
  s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    s.acceptor.close(ec);
    return unavailable("control.socket " + s.path + ": cannot listen: " + ec.message());
  }
  *s.listening = true;
  spdlog::info("control API listening on {}", s.path);
  s.accept();
  return {};
}

void ControlServer::stop() {
  Impl& s = *impl_;
  if (!*s.listening) return;
  s.close();
  std::error_code fs_ec;
  std::filesystem::remove(s.path, fs_ec);
}

// --- MetricsServer ---------------------------------------------------------------------------

struct MetricsServer::Impl : Listener<net::ip::tcp, MetricsServer::Impl>,
                             std::enable_shared_from_this<MetricsServer::Impl> {
  Impl(net::io_context& io, ControlHandler& handler, std::string address)
      : Listener(io, kMetricsLimits), handler(handler), address(std::move(address)) {}

  std::string name() const { return "metrics " + address; }

  Response respond(const Request& req) {
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    if (target != "/metrics") {
      Response res{http::status::not_found, req.version()};
      res.set(http::field::content_type, "text/plain");
      res.body() = "not found: blockd serves /metrics\n";
      res.keep_alive(req.keep_alive());
      return res;
    }
    if (req.method() != http::verb::get) {
      Response res{http::status::method_not_allowed, req.version()};
      res.set(http::field::allow, "GET");
      res.keep_alive(req.keep_alive());
      return res;
    }
    Response res{http::status::ok, req.version()};
    res.set(http::field::server, "blockd");
    // The Prometheus text exposition format, version 0.0.4.
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = handler.metrics();
    res.keep_alive(req.keep_alive());
    return res;
  }

  void serve(net::ip::tcp::socket socket) {
    auto session = std::make_shared<HttpSession<net::ip::tcp>>(
        std::move(socket),
        [self = shared_from_this()](const Request& req, const Call& call) {
          call.reply(*self->listening ? self->respond(req) : Response{http::status::service_unavailable, req.version()}, {});
        },
        limits.idle_timeout);
    sessions.add(session);
    session->run();
  }

  ControlHandler& handler;
  std::string address;
};

MetricsServer::MetricsServer(net::io_context& io, ControlHandler& handler, std::string address)
    : impl_(std::make_shared<Impl>(io, handler, std::move(address))) {}

MetricsServer::~MetricsServer() { stop(); }

Status MetricsServer::start() {
  Impl& s = *impl_;
  if (*s.listening) return {};
  const std::string& a = s.address;
  const auto colon = a.rfind(':');
  if (colon == std::string::npos || colon == 0) return invalid("control.metrics " + a + ": expected ADDRESS:PORT");
  std::string host = a.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  const auto ip = net::ip::make_address(host, ec);
  if (ec) return invalid("control.metrics " + a + ": " + host + " is not an IP address");
  if (!ip.is_loopback()) return invalid("control.metrics " + a + ": must be a loopback address (127.0.0.0/8 or ::1)");
  unsigned long port_number = 0;
  try {
    std::size_t used = 0;
    port_number = std::stoul(a.substr(colon + 1), &used);
    if (used != a.size() - colon - 1 || port_number > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return invalid("control.metrics " + a + ": the port must be a number from 0 to 65535");
  }
  const net::ip::tcp::endpoint endpoint(ip, static_cast<unsigned short>(port_number));
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    return unavailable("control.metrics " + a + ": cannot listen: " + ec.message());
  }
  *s.listening = true;
  spdlog::info("metrics on http://{}:{}/metrics", host, this->port());
  s.accept();
  return {};
}

void MetricsServer::stop() {
  Impl& s = *impl_;
  if (!*s.listening) return;
  s.close();
}

unsigned short MetricsServer::port() const {
  beast::error_code ec;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

}  // namespace blockd::agent
