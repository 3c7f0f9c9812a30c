// BFD for single-hop IPv4 and IPv6 (RFC 5881) on Boost.Asio: Control packets on UDP port 3784,
// sent from one source port in 49152..65535 per family with TTL / hop limit 255, and accepted
// only with TTL / hop limit 255 (§5: the peer is one hop away). One Session (bfd/session.hpp)
// per peer, matched by Your Discriminator, or by source address while the peer does not know
// ours yet (§6.8.6). Everything runs on the caller's io_context; the methods may be called from
// any thread (a mutex serialises them with the handlers); callbacks are posted to the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "bfd/session.hpp"
#include "ipam/net/prefix.hpp"
#include "ipam/net/result.hpp"

namespace blockd::bfd {

using ipam::Address;

inline constexpr std::uint16_t kControlPort = 3784;       // RFC 5881 §4
inline constexpr std::uint16_t kFirstSourcePort = 49152;  // RFC 5881 §4: 49152..65535
inline constexpr int kRequiredTtl = 255;                  // RFC 5881 §5

struct TransportConfig {
  std::uint16_t port = kControlPort;       // where we listen
  std::uint16_t peer_port = kControlPort;  // where peers listen (differs only in tests on one host)
};

struct PeerSession {
  Address address;
  Timers timers;
  friend bool operator==(const PeerSession&, const PeerSession&) = default;
};

struct SessionStatus {
  Address address;
  State state = State::Down;
  State remote_state = State::Down;
  Diagnostic local_diagnostic = Diagnostic::None;
  std::uint32_t local_discriminator = 0;
  std::uint32_t remote_discriminator = 0;
  Micros tx_interval{0};
  Micros detection_time{0};
  std::uint64_t state_changes = 0;
};

// Counters of what the transport dropped, by §6.8.6 / RFC 5881 rule.
struct DropCounters {
  std::uint64_t bad_ttl = 0;        // TTL / hop limit not 255
  std::uint64_t malformed = 0;      // decode() refused it, or it was larger than any Control packet
  std::uint64_t no_session = 0;     // no session for its discriminator or source address
};

class Transport {
 public:
  Transport(boost::asio::io_context& io, TransportConfig config);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Opens the sockets: IPv4 and IPv6 (a host without IPv6 runs IPv4 alone).
  Status start();
  void stop();

  // Desired state: a session per peer; others end (sending AdminDown once, §6.8.16); changed
  // timers go to the peer through a poll sequence.
  void set_peers(std::vector<PeerSession> peers);
  std::vector<SessionStatus> sessions() const;
  DropCounters drops() const;

  // Posted to the io_context when a session's state changes, with the session as it then is.
  using StateCallback = std::function<void(const SessionStatus& session)>;
  void on_state_change(StateCallback callback);

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace blockd::bfd
