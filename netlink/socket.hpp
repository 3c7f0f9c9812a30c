// A NETLINK_ROUTE socket on libnl-3 that batches requests: many messages per sendmsg, the
// acknowledgements collected afterwards and mapped back by sequence number, so one refused
// message never stops the rest (Open/R's NetlinkProtocolSocket does the same).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ipam/net/result.hpp"

struct nl_sock;
struct nl_msg;
struct nlmsghdr;

namespace blockd::netlink {

struct MessageFree {
  void operator()(nl_msg* m) const;
};
using Message = std::unique_ptr<nl_msg, MessageFree>;

// A new message of `type` with `flags` (NLM_F_REQUEST is added), room for small requests.
Message new_message(int type, int flags);

// errno to an Error: the kernel's reason, with the extended ack text when it gave one.
Error kernel_error(int err, const std::string& ext_ack = {});

class Socket {
 public:
  // Opens a socket in the calling thread's network namespace, subscribed to `groups`
  // (RTNLGRP_* numbers; none for a request socket).
  static Result<Socket> open(const std::vector<unsigned>& groups = {});
  Socket(Socket&&) noexcept;
  Socket& operator=(Socket&&) noexcept;
  ~Socket();

  int fd() const;
  nl_sock* raw() const { return sock_; }

  // Sends `count` requests built on demand by `build` (an Error there fails that request
  // without sending it), NLM_F_ACK set on each, many per sendmsg; returns one Status per request.
  std::vector<Status> transact(std::size_t count,
                               const std::function<Result<Message>(std::size_t)>& build);
  // Sends a dump request and calls `each` for every answer until NLMSG_DONE; restarts the dump
  // when the kernel flags it inconsistent (NLM_F_DUMP_INTR): `request` is called again, so it
  // is the place to reset what `each` collected.
  Status dump(const std::function<Message()>& request,
              const std::function<void(const nlmsghdr*)>& each);
  // Reads what is queued without blocking; `each` sees every message. ENOBUFS (events lost)
  // is returned as an Unavailable error.
  Status read_pending(const std::function<void(const nlmsghdr*)>& each);

 private:
  explicit Socket(nl_sock* s);
  nl_sock* sock_ = nullptr;
  std::uint32_t seq_ = 1;
  std::vector<char> buf_;
};

}  // namespace blockd::netlink
