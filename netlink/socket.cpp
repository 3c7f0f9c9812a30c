#include "netlink/socket.hpp"

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace blockd::netlink {
namespace {

// A sendmsg carries at most this many bytes and messages: the acks of one chunk must fit the
// receive buffer (each ack is its own skb of about 1 KiB truesize).
constexpr std::size_t kChunkBytes = 128 * 1024;
constexpr std::size_t kChunkMessages = 1024;
constexpr int kBufferBytes = 8 * 1024 * 1024;
constexpr std::size_t kReceiveBytes = 1024 * 1024;

void set_option(int fd, int level, int name, int value) {
  (void)setsockopt(fd, level, name, &value, sizeof value);
}

// The text of an extended ack (NETLINK_EXT_ACK), if any.
std::string ext_ack_text(const nlmsghdr* h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
  std::size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
  if (offset >= h->nlmsg_len) return {};
  nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
  auto* head = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(const_cast<nlmsghdr*>(h)) + offset);
  if (nla_parse(tb, NLMSGERR_ATTR_MAX, head, static_cast<int>(h->nlmsg_len - offset), nullptr) < 0)
    return {};
  if (!tb[NLMSGERR_ATTR_MSG]) return {};
  return std::string(static_cast<const char*>(nla_data(tb[NLMSGERR_ATTR_MSG])),
                     strnlen(static_cast<const char*>(nla_data(tb[NLMSGERR_ATTR_MSG])),
                             static_cast<std::size_t>(nla_len(tb[NLMSGERR_ATTR_MSG]))));
}

const char* errno_name(int err) {
  switch (err) {
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENETDOWN: return "ENETDOWN";
    case ENETUNREACH: return "ENETUNREACH";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EPERM: return "EPERM";
    case ENOBUFS: return "ENOBUFS";
    case EBUSY: return "EBUSY";
    case ERANGE: return "ERANGE";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    default: return "errno";
  }
}

}  // namespace

void MessageFree::operator()(nl_msg* m) const { nlmsg_free(m); }

Message new_message(int type, int flags) {
  nl_msg* m = nlmsg_alloc_size(512);
  if (m && !nlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, type, 0, flags | NLM_F_REQUEST)) {
    nlmsg_free(m);
    m = nullptr;
  }
  return Message(m);
}

Error kernel_error(int err, const std::string& ext_ack) {
  std::string text = std::strerror(err);
  text += " (" + std::string(errno_name(err)) + ")";
  if (!ext_ack.empty()) text = ext_ack + ": " + text;
  switch (err) {
    case ENODEV: case ENOENT: case ESRCH: return not_found(text);
    case EEXIST: return conflict(text);
    case EINVAL: case EOPNOTSUPP: case ERANGE: case EAFNOSUPPORT: return invalid(text);
    case ENETDOWN: case ENETUNREACH: case ENOBUFS: case EBUSY: case EAGAIN:
      return unavailable(text);
    default: return internal(text);
  }
}

Socket::Socket(nl_sock* s) : sock_(s), buf_(kReceiveBytes) {}
Socket::Socket(Socket&& o) noexcept : sock_(o.sock_), seq_(o.seq_), buf_(std::move(o.buf_)) {
  o.sock_ = nullptr;
}
Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    if (sock_) nl_socket_free(sock_);
    sock_ = o.sock_;
    seq_ = o.seq_;
    buf_ = std::move(o.buf_);
    o.sock_ = nullptr;
  }
  return *this;
}
Socket::~Socket() {
  if (sock_) nl_socket_free(sock_);
}

int Socket::fd() const { return nl_socket_get_fd(sock_); }

Result<Socket> Socket::open(const std::vector<unsigned>& groups) {
  nl_sock* s = nl_socket_alloc();
  if (!s) return internal("netlink: cannot allocate a socket");
  Socket sock(s);
  nl_socket_disable_seq_check(s);
  nl_socket_disable_auto_ack(s);
  if (int err = nl_connect(s, NETLINK_ROUTE); err < 0)
    return unavailable(std::string("netlink: cannot connect: ") + nl_geterror(err));
  const int fd = nl_socket_get_fd(s);
  (void)nl_socket_set_buffer_size(s, kBufferBytes, kBufferBytes);
  // As root, exceed net.core.rmem_max: a large batch's acks or an event burst must fit.
  set_option(fd, SOL_SOCKET, SO_RCVBUFFORCE, kBufferBytes);
  set_option(fd, SOL_SOCKET, SO_SNDBUFFORCE, kBufferBytes);
  set_option(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);   // the kernel's reason as text
  set_option(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);   // acks without the request echoed
  set_option(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);  // dumps filtered in the kernel
  for (unsigned g : groups) {
    if (int err = nl_socket_add_memberships(s, static_cast<int>(g), 0); err < 0)
      return unavailable(std::string("netlink: cannot join group ") + std::to_string(g) + ": " +
                         nl_geterror(err));
  }
  return sock;
}

std::vector<Status> Socket::transact(std::size_t count,
                                     const std::function<Result<Message>(std::size_t)>& build) {
  std::vector<Status> out(count);
  std::vector<char> chunk;
  chunk.reserve(kChunkBytes + 4096);
  std::unordered_map<std::uint32_t, std::size_t> pending;  // seq -> request index
  const int fd = nl_socket_get_fd(sock_);

  const auto flush = [&] {
    if (pending.empty()) return;
    ssize_t sent = nl_sendto(sock_, chunk.data(), chunk.size());
    if (sent < 0) {
      const Error e = unavailable(std::string("netlink: sendmsg failed: ") +
                                  nl_geterror(static_cast<int>(sent)));
      for (auto& [seq, i] : pending) out[i] = e;
      pending.clear();
      chunk.clear();
      return;
    }
    chunk.clear();
    while (!pending.empty()) {
      const ssize_t n = recv(fd, buf_.data(), buf_.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        // ENOBUFS: acks were dropped; what is unanswered is reported and retried later.
        const Error e = kernel_error(errno, "no acknowledgement");
        for (auto& [seq, i] : pending) out[i] = e;
        pending.clear();
        break;
      }
      auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
      int len = static_cast<int>(n);
      for (; nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;
        auto it = pending.find(h->nlmsg_seq);
        if (it == pending.end()) continue;
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error != 0) out[it->second] = kernel_error(-e->error, ext_ack_text(h));
        pending.erase(it);
      }
    }
  };

  for (std::size_t i = 0; i < count; ++i) {
    auto m = build(i);
    if (!m) {
      out[i] = m.error();
      continue;
    }
    nlmsghdr* h = nlmsg_hdr(m->get());
    h->nlmsg_flags |= NLM_F_ACK;
    h->nlmsg_seq = seq_++;
    h->nlmsg_pid = 0;
    const std::size_t len = NLMSG_ALIGN(h->nlmsg_len);
    const auto* bytes = reinterpret_cast<const char*>(h);
    chunk.insert(chunk.end(), bytes, bytes + len);
    pending.emplace(h->nlmsg_seq, i);
    if (chunk.size() >= kChunkBytes || pending.size() >= kChunkMessages) flush();
  }
  flush();
  return out;
}

Status Socket::dump(const std::function<Message()>& request,
                    const std::function<void(const nlmsghdr*)>& each) {
  const int fd = nl_socket_get_fd(sock_);
  for (int attempt = 0; attempt < 5; ++attempt) {
    Message m = request();
    if (!m) return internal("netlink: cannot build a dump request");
    nlmsghdr* req = nlmsg_hdr(m.get());
    req->nlmsg_flags |= NLM_F_DUMP | NLM_F_REQUEST;
    const std::uint32_t seq = seq_++;
    req->nlmsg_seq = seq;
    req->nlmsg_pid = 0;
    if (int err = nl_sendto(sock_, req, req->nlmsg_len); err < 0)
      return unavailable(std::string("netlink: dump request failed: ") + nl_geterror(err));
    bool done = false, interrupted = false;
    while (!done) {
      const ssize_t n = recv(fd, buf_.data(), buf_.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return kernel_error(errno, "netlink: reading a dump");
      }
      auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
      int len = static_cast<int>(n);
      for (; nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
        if (h->nlmsg_seq != seq) continue;
        if (h->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (h->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (h->nlmsg_type == NLMSG_ERROR) {
          const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
          if (e->error == 0) continue;
          return kernel_error(-e->error, ext_ack_text(h));
        }
        if (!interrupted) each(h);
      }
    }
    if (!interrupted) return {};
  }
  return unavailable("netlink: dump kept changing under us (NLM_F_DUMP_INTR)");
}

Status Socket::read_pending(const std::function<void(const nlmsghdr*)>& each) {
  const int fd = nl_socket_get_fd(sock_);
  for (;;) {
    const ssize_t n = recv(fd, buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      return kernel_error(errno, "netlink: reading events");
    }
    auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
    int len = static_cast<int>(n);
    for (; nlmsg_ok(h, len); h = nlmsg_next(h, &len)) each(h);
  }
}

}  // namespace blockd::netlink
