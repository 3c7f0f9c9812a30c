// Any byte string given to `blockctl create -f`: decoding must never crash; whatever decodes
// must survive the trip to YAML and back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ipam/resources/resource_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto resources = blockd::ipam::parse_resources_yaml(text);
  if (!resources.ok()) return 0;
  for (const auto& r : *resources) {
    auto back = blockd::ipam::parse_resources_yaml(blockd::ipam::resource_to_yaml(r));
    if (!back.ok() || back->size() != 1 || back->front() != r) std::abort();
    auto from_json = blockd::ipam::resource_from_json(blockd::ipam::resource_to_json(r));
    if (!from_json.ok() || *from_json != r) std::abort();
  }
  return 0;
}
