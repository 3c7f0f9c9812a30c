// Any byte string given as a node selector: parsing and matching must never crash, recurse
// without bound or leak, and a failure must be a message naming a position.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ipam/resources/selector.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sel = blockd::ipam::Selector::parse(text);
  if (sel.ok()) {
    static const blockd::ipam::Labels labels = {{"rack", "0"}, {"zone", "west"}, {"a", ""}};
    (void)sel->matches(labels);
    (void)sel->matches({});
  } else if (sel.error().message.find(": at position ") == std::string::npos) {
    std::abort();  // every parse error names its position
  }
  return 0;
}
