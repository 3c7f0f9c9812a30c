#include "netlink/nft.hpp"

#include <nftables/libnftables.h>

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace blockd::netlink {
namespace {

// nft's messages end with the offending line and a caret line; keep them, trimmed.
std::string trimmed(const char* text) {
  std::string s = text ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<std::unique_ptr<Libnftables>> Libnftables::open() {
  // libnftables exits the process when it cannot open its netlink socket (netlink_init_error):
  // try one first and report instead.
  const int probe = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (probe < 0)
    return unavailable(std::string("nftables: cannot open a netfilter netlink socket: ") +
                       std::strerror(errno));
  ::close(probe);
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return unavailable("nftables: cannot create a libnftables context");
  // Both buffered: output is returned, errors go into the Error instead of stderr.
  if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
    nft_ctx_free(ctx);
    return internal("nftables: cannot buffer libnftables output");
  }
  return std::unique_ptr<Libnftables>(new Libnftables(ctx));
}

Libnftables::~Libnftables() { nft_ctx_free(ctx_); }

Result<std::string> Libnftables::run(const std::string& script, bool json_output) {
  const unsigned flags = nft_ctx_output_get_flags(ctx_);
  nft_ctx_output_set_flags(ctx_, json_output ? (flags | NFT_CTX_OUTPUT_JSON)
                                             : (flags & ~unsigned{NFT_CTX_OUTPUT_JSON}));
  errno = 0;
  const int rc = nft_run_cmd_from_buffer(ctx_, script.c_str());
  const int err = errno;
  // Reading a buffer also rewinds it for the next command.
  const char* out = nft_ctx_get_output_buffer(ctx_);
  std::string output = out ? out : "";
  const std::string error = trimmed(nft_ctx_get_error_buffer(ctx_));
  if (rc != 0) {
    // A script can hold thousands of elements; nft's message quotes the offending line anyway.
    std::string command = trimmed(script.c_str());
    if (command.size() > 400) command = command.substr(0, 400) + " ...";
    return unavailable("nftables refused `" + command + "`: " +
                       (error.empty() ? (err ? std::strerror(err) : "no reason given") : error));
  }
  return output;
}

}  // namespace blockd::netlink
