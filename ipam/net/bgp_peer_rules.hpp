// The rules on a BGP session's AS numbers and TCP-MD5 key that the speaker (bgp/), the agent's
// config file and Calico's BGPPeer/Node/BGPConfiguration validation (ipam/resources/) all apply:
// one home, so blockctl never accepts what the speaker would refuse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace blockd {

// Linux's TCP_MD5SIG_MAXKEYLEN: the kernel refuses a longer RFC 2385 key.
inline constexpr std::size_t kMaxTcpMd5Password = 80;

// Empty when `as` is usable in a session; otherwise the rule it breaks (AS 0, RFC 7607; AS_TRANS,
// RFC 6793).
std::string as_number_problem(std::uint32_t as);
// Empty when the kernel takes `password` as a TCP-MD5 key; otherwise why not.
std::string tcp_md5_password_problem(std::string_view password);

}  // namespace blockd
