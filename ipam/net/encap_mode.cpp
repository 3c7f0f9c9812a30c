#include "ipam/net/encap_mode.hpp"

namespace blockd::ipam {

const char* encap_mode_name(EncapMode m) {
  switch (m) {
    case EncapMode::Never:
      return "Never";
    case EncapMode::Always:
      return "Always";
    case EncapMode::CrossSubnet:
      return "CrossSubnet";
  }
  return "Never";
}

}  // namespace blockd::ipam
