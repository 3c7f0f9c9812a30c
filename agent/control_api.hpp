// blockd's local control API: HTTP/1.1 with JSON over a Unix socket (Boost.Beast), used by
// blockctl's runtime commands and the blockd-ipam CNI plugin, plus a Prometheus /metrics
// endpoint on a loopback TCP port.
//
// Endpoints (all bodies JSON):
//   GET  /v1/status                 {"node": "...", "version": "...", "uptimeSeconds": N,
//                                    "datastore": "...", "warnings": ["..."]}
//   GET  /v1/peers                  [{"address", "asNumber", "localAs", "state", "since" (seconds
//                                    in Established or null), "prefixesSent", "prefixesReceived",
//                                    "lastError", "source" ("config" or "BGPPeer/<name>"),
//                                    "peerType" (optional: "node specific"|"global"|"config", as
//                                    `calicoctl node status` names them; blockctl derives it from
//                                    "source" when absent)}]
//   GET  /v1/routes/advertised      {"routes": [{"prefix", "nextHop", "kind" ("block"|"borrowed"),
//                                    "communities": []}], "workloads": M (the workload addresses
//                                    allocated on this node, for blockctl's route-reduction line)}
//                                   (blockctl also accepts a bare array of routes)
//   GET  /v1/routes/received        [{"prefix", "nextHop", "peer", "asPath", "stale"}]
//   GET  /v1/routes/kernel          [{"prefix", "kind", "via", "device", "onlink", "protocol"}]
//   POST /v1/ipam/allocate          {"handle", "ipv4": true, "ipv6": false, "pools": []}
//                                -> {"ips": [{"address": "192.168.0.5", "prefixLength": 32,
//                                    "block", "pool", "borrowed", "reused", "gateway": "169.254.1.1"}]}
//                                   One address per family and handle: a handle that holds one
//                                   gets it back ("reused": true; a retried CNI ADD). Unknown
//                                   fields and wrong JSON types are 400 naming the field.
//                                   "gateway": the pod's next hop. Debian's CNI ptp (1.1) needs it
//                                   on-link: inside address/prefixLength (e.g. the pool's length
//                                   with a gateway the node reserved in the pool), or else inside
//                                   "block" (blockd-ipam then reports the block's length). A
//                                   link-local gateway with /32 (Calico's 169.254.1.1) stays as
//                                   given: ptp refuses that.
//   POST /v1/ipam/release           {"handle"} or {"address"}   -> {"released": ["..."]}
//   GET  /v1/ipam/handles/<handle>  -> {"handle", "ips": ["192.168.0.5", ...]} (the addresses the
//                                   handle holds, none when unknown; the handle percent-encoded;
//                                   blockd-ipam's CNI CHECK)
//   GET  /metrics  (TCP listener)   Prometheus text format
// Errors: HTTP 400 (Invalid), 404 (NotFound), 409 (Conflict), 507 (Exhausted),
// 503 (Unavailable), 500 (Internal), body {"error": "<message>", "code": "<ErrorCode name>"}.
//
// Limits (a local user must not be able to starve CNI): each listener has its own accept loop
// and its own connection cap (control socket 128, metrics 16); at the cap the connection idle
// longest is closed to make room (none idle: the newcomer is refused). A connection may wait
// 10 s (control) or 5 s (metrics) for a request and as long for its answer to be read. Failed
// accepts (EMFILE, ...) back off from 10 ms to 1 s and are logged once per burst. Requests:
// headers up to 16 KiB, bodies up to 1 MiB (413 beyond).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ipam/net/result.hpp"

namespace blockd::agent {

class StoreWorker;

// What the API serves; the node agent implements it. Called on the io_context's thread.
class ControlHandler {
 public:
  virtual ~ControlHandler() = default;
  virtual nlohmann::json status() = 0;
  virtual nlohmann::json peers() = 0;
  virtual nlohmann::json routes(const std::string& which) = 0;  // advertised|received|kernel
  virtual Result<nlohmann::json> allocate(const nlohmann::json& request) = 0;
  // Allocations that arrived together (queued while the store worker was busy): one answer
  // per request, in order, as allocate() would give it. The node agent commits them in one
  // transaction where it can; by default each is allocate()'s.
  virtual std::vector<Result<nlohmann::json>> allocate_many(const std::vector<nlohmann::json>& requests) {
    std::vector<Result<nlohmann::json>> out;
    for (const auto& r : requests) out.push_back(allocate(r));
    return out;
  }
  virtual Result<nlohmann::json> release(const nlohmann::json& request) = 0;
  virtual std::string metrics() = 0;
  // GET /v1/ipam/handles/<handle>, already percent-decoded. Not pure so that handlers written
  // before it keep compiling; the default refuses.
  virtual Result<nlohmann::json> handle(const std::string& handle_id) {
    return internal("this blockd does not serve handle lookups (" + handle_id + ")");
  }
  // Where allocate, release and handle run when they may block on the datastore: the server
  // calls them on this worker's thread (a request still queued 25 s after it arrived is
  // answered 503 unrun) and answers on the io_context's. nullptr: on the io_context's thread.
  virtual StoreWorker* store_worker() { return nullptr; }
  // An allocate answer that never reached its caller (it hung up first, e.g. a CNI ADD that
  // timed out): the runtime sees a failed ADD, so the addresses it took are given back.
  virtual void allocation_undelivered(const nlohmann::json& answer) { (void)answer; }
};

// The API's vocabulary, shared by the server and ControlClient (control_client.cpp).
// A JSON body: compact, newline-terminated, invalid UTF-8 replaced (a handle is the caller's text).
std::string json_body(const nlohmann::json& j);
const char* error_code_name(ErrorCode code);
Result<ErrorCode> error_code_from_name(const std::string& name);
unsigned http_status_of(ErrorCode code);
// The inverse, for answers without a "code" (e.g. from a proxy): anything unknown is Internal.
ErrorCode error_code_of_http(unsigned status);

// SO_PEERCRED rule: root, or the user blockd runs as.
bool caller_allowed(unsigned caller_uid, unsigned own_uid);

// Both servers run on the io_context's thread; call start()/stop() there, or while it is not
// running. Requests: HTTP/1.1 keep-alive, within the limits above; a malformed request is
// answered 400 and the connection closed.
class ControlServer {
 public:
  // socket_path: created with mode 0660 (folder created if needed; a stale socket replaced).
  // Callers whose uid is neither 0 nor this process's uid are refused (SO_PEERCRED).
  ControlServer(boost::asio::io_context& io, ControlHandler& handler, std::string socket_path);
  ~ControlServer();
  Status start();
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

class MetricsServer {
 public:
  // address: "127.0.0.1:9095" (loopback only, by design).
  MetricsServer(boost::asio::io_context& io, ControlHandler& handler, std::string address);
  ~MetricsServer();
  Status start();
  void stop();
  // The bound port once started (useful with port 0).
  unsigned short port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// A blocking client for blockctl and the CNI plugin. Errors from the agent come back with
// their code and message; an absent agent is Unavailable naming the socket.
class ControlClient {
 public:
  explicit ControlClient(std::string socket_path, int timeout_ms = 30000);
  Result<nlohmann::json> get(const std::string& target);
  Result<nlohmann::json> post(const std::string& target, const nlohmann::json& body);

 private:
  std::string socket_path_;
  int timeout_ms_;
};

inline constexpr const char* kDefaultControlSocket = "/run/blockd/blockd.sock";

}  // namespace blockd::agent
