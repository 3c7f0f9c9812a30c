// libFuzzer target: any bytes a peer could send, through framing, decoding and the RFC 7606
// UPDATE checks and OPEN negotiation. Nothing may crash, and whatever decodes must re-encode to
// the same bytes.
#include <cstdint>
#include <cstdlib>

#include "bgp/codec/attributes.hpp"
#include "bgp/codec/capabilities.hpp"
#include "bgp/codec/message.hpp"

using namespace blockd::bgp;

namespace {

void check(ByteView input) {
  for (bool extended : {false, true}) {
    if (input.size() >= kHeaderSize) (void)frame_length(input, {extended});
    auto m = decode(input, {extended});
    if (!m) continue;
    if (encode(*m) != Bytes(input.begin(), input.end())) std::abort();
    if (auto* u = std::get_if<UpdateMessage>(&*m)) {
      for (bool four : {false, true}) {
        for (bool ebgp : {false, true}) {
          const ParsedUpdate p = parse_update(*u, {four, ebgp});
          if (p.action == UpdateAction::SessionReset && !p.reset) std::abort();
          if (p.action == UpdateAction::TreatAsWithdraw && !p.announced.empty()) std::abort();
        }
      }
    } else if (auto* o = std::get_if<OpenMessage>(&*m)) {
      (void)parse_capabilities(*o);
      Capabilities ours;
      ours.four_octet_as = 65001;
      ours.multiprotocol = {{1, 1}, {2, 1}};
      ours.graceful_restart = GracefulRestartCapability{false, 120, {}};
      (void)negotiate(*o, ours, {65002, 65001, 1, 90});
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check(ByteView(data, size));
  // Most mutations break the marker or the length: also try the input as a body behind a
  // valid header, so the fuzzer spends its time in the message parsers.
  if (size >= 1 && size - 1 + kHeaderSize <= kMaxExtendedMessageSize) {
    Bytes framed(16, 0xff);
    put_u16(framed, static_cast<std::uint16_t>(size - 1 + kHeaderSize));
    framed.push_back(static_cast<std::uint8_t>(data[0] % 5 + 1));
    framed.insert(framed.end(), data + 1, data + size);
    check(framed);
  }
  return 0;
}
