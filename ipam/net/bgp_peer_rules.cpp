#include "ipam/net/bgp_peer_rules.hpp"

namespace blockd {

namespace {
constexpr std::uint32_t kAsTrans = 23456;  // RFC 6793 §9
}  // namespace

std::string as_number_problem(std::uint32_t as) {
  if (as == 0) return "0 is reserved and never valid in a session (RFC 7607)";
  if (as == kAsTrans) return "23456 is AS_TRANS, reserved to stand in for 4-octet AS numbers (RFC 6793)";
  return {};
}

std::string tcp_md5_password_problem(std::string_view password) {
  if (password.size() <= kMaxTcpMd5Password) return {};
  return std::to_string(password.size()) + " octets; a TCP-MD5 key holds at most " +
         std::to_string(kMaxTcpMd5Password) + " (Linux TCP_MD5SIG_MAXKEYLEN)";
}

}  // namespace blockd
