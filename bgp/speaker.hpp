// blockd's BGP speaker: the API the agent uses. Desired state in (peers, advertise set),
// status out. Everything runs on the caller's io_context; the methods may be called from any
// thread (an internal mutex serialises them with the I/O handlers), and callbacks are posted
// to the io_context, never run inside a method.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipam/net/clock.hpp"
#include "bgp/export_policy.hpp"
#include "bgp/path_rank.hpp"
#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"

namespace blockd::bgp {

struct GracefulRestartConfig {
  bool enabled = false;
  std::uint16_t restart_time = 120;  // seconds (RFC 4724 §3: 12 bits)
  // Set the Restart State bit in our first OPENs: this process has just restarted and the
  // peer holds our routes as stale (RFC 4724 §4.1).
  bool restarting = false;
};

struct SpeakerConfig {
  std::uint32_t local_as = 0;
  Address router_id;                      // IPv4; the BGP Identifier
  std::optional<Address> listen_address;  // default: every address, IPv4 and IPv6
  std::uint16_t listen_port = 179;        // 0: do not listen (active sessions only)
  std::uint16_t hold_time = 90;
  GracefulRestartConfig graceful_restart;
  Duration connect_retry = std::chrono::seconds(5);
  Duration idle_hold = std::chrono::seconds(1);
  // The families this node has an address of to peer from; a peer of another family is
  // refused. Empty: any.
  std::vector<ipam::Family> peer_families;
};

struct PeerConfig {
  Address address;
  std::uint32_t peer_as = 0;
  std::optional<std::uint32_t> local_as;   // default: SpeakerConfig::local_as
  std::string password;                    // TCP-MD5 (RFC 2385) when not empty
  bool passive = false;                    // wait for the peer to connect
  std::uint16_t port = 179;                // the peer's port
  std::optional<int> ttl_security_hops;    // GTSM (RFC 5082): accept only TTL >= 256 - hops
  std::optional<std::uint16_t> hold_time;  // default: SpeakerConfig::hold_time
  std::size_t max_prefixes = 1'000'000;    // more received: Cease 6/1 (RFC 4486), bounding memory
  // The address our connections to the peer start from (BIRD's `source address`); none: the
  // kernel picks it (the listen address when one is set).
  std::optional<Address> local_address;
  // RFC 5882 §4.3: BFD watches the path; the session runs only while set_path_up says Up.
  bool bfd = false;
  // Our graceful restart time in the OPEN to this peer (RFC 4724 §3); default: the speaker's.
  std::optional<std::uint16_t> restart_time{};
  // How often our AS may appear in a received AS_PATH before the route counts as a loop
  // (RFC 4271 §9.1.2 with 0; BIRD's `allow local as`, Calico's numAllowedLocalASNumbers).
  unsigned allowed_own_as{0};
  ipam::FilterRules export_filter{};  // BGPFilter export rules (route_filter.hpp): what this peer is sent
  friend bool operator==(const PeerConfig&, const PeerConfig&) = default;
};

struct PeerStatus {
  Address address;
  std::uint32_t peer_as = 0;
  std::uint32_t local_as = 0;
  std::string state;                      // RFC 4271 §8 state name: Idle ... Established
  std::optional<Duration> uptime;         // time in Established
  std::size_t prefixes_sent = 0;          // in Adj-RIB-Out
  std::size_t prefixes_received = 0;      // in Adj-RIB-In (stale ones included)
  std::string last_error;
};

// A peer set_peers did not take, and why (the rule it breaks).
struct RefusedPeer {
  Address address;
  std::uint32_t peer_as = 0;
  std::string reason;
};

struct ReceivedRoute {
  Prefix prefix;
  std::optional<Address> next_hop;
  Address peer;
  std::string as_path;  // "65001 65002"
  std::vector<std::uint32_t> communities;
  PathRank rank;       // equal ranks from several peers: one multipath route
  bool stale = false;  // kept for a restarting peer (RFC 4724)
};

class Speaker {
 public:
  Speaker(boost::asio::io_context& io, SpeakerConfig config, const Clock& clock);
  Speaker(boost::asio::io_context& io, SpeakerConfig config);  // steady clock
  ~Speaker();
  Speaker(const Speaker&) = delete;
  Speaker& operator=(const Speaker&) = delete;

  // Validates the config, opens the listening sockets and starts the configured peers.
  Status start();
  // Ends every session: with a Cease NOTIFICATION, or (graceful, with graceful restart
  // enabled) by just closing, so peers keep our routes while we restart (RFC 4724 §4.1).
  void stop(bool graceful);

  // Waits for the connections a stop closed: `done` is posted to the io_context once each
  // NOTIFICATION is out and each graceful close answered by the peer's FIN (or the bounded wait
  // gave up), so the caller can end the io_context without losing them.
  void when_drained(std::function<void()> done);

  // Desired state: adds, removes (Cease 6/3) and restarts changed (Cease 6/6) sessions. Each
  // peer is checked alone (validate below): one that breaks a rule is refused (and removed if
  // it ran) while the others are applied; the error names every refused peer, refused() too.
  Status set_peers(std::vector<PeerConfig> peers);
  std::vector<RefusedPeer> refused() const;
  // Desired state: each peer is sent only the difference from what it has.
  void set_advertise(std::vector<AdvertisedRoute> routes);

  // BFD's verdict on the path to `peer` (RFC 5882), for peers configured with `bfd`: Down
  // ends the session at once with a Cease (Administrative Reset), flushing its routes with no
  // graceful-restart retention (the failure is real, not a restart); while Down the session is
  // not started (nor accepted); Up starts it. Kept per address, so a verdict may come first.
  void set_path_up(const Address& peer, bool up);

  std::vector<PeerStatus> peers() const;
  std::vector<ReceivedRoute> received() const;
  // Called (posted to the io_context) after routes received from peers change.
  void on_received_change(std::function<void()> callback);

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

// Rules the speaker enforces. AS numbers: not 0 (RFC 7607 §2: Bad Peer AS) and not AS_TRANS
// 23456 (RFC 6793: it only stands in for a 4-octet AS in the 2-octet OPEN field; FRR refuses a
// speaker that claims it as its own); hold time 0 or >= 3 (RFC 4271 §4.2).
Status validate(const SpeakerConfig& config);
// One peer: AS numbers as above, TCP-MD5 password <= 80 octets (Linux TCP_MD5SIG_MAXKEYLEN),
// GTSM hops 1..254, port, max prefixes, and an address of a family in config.peer_families.
Status validate(const PeerConfig& peer, const SpeakerConfig& config);
// A peer list: each peer as above, addresses unique.
Status validate(const std::vector<PeerConfig>& peers, const SpeakerConfig& config = {});

}  // namespace blockd::bgp
