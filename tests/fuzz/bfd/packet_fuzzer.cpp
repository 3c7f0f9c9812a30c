// libFuzzer target: any datagram a peer could send to port 3784, through the Control packet
// checks (RFC 5880 §6.8.6) and into a session's state machine. Nothing may crash; whatever
// decodes must encode to a packet that decodes to the same value.
#include <cstdint>
#include <cstdlib>

#include "bfd/control_packet.hpp"
#include "bfd/session.hpp"

using namespace blockd::bfd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxControlPacketSize) return 0;  // the transport drops these before decoding
  auto p = decode(ByteView(data, size));
  if (!p) return 0;
  auto again = decode(encode(*p));
  if (!again || !(*again == *p)) std::abort();
  blockd::TimePoint now{std::chrono::hours(1)};
  Session s(p->your_discriminator == 0 ? 1 : p->your_discriminator, Timers{}, 1, now);
  for (int i = 0; i < 3; ++i) {
    Actions a = s.receive(*p, now);
    if (a.send && a.send->poll && a.send->final) std::abort();
    now = s.next_event();
    (void)s.on_timer(now);
  }
  if (s.state() != State::Down && s.remote_discriminator() != p->my_discriminator) std::abort();
  return 0;
}
