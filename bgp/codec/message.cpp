#include "bgp/codec/message.hpp"

#include <algorithm>

namespace blockd::bgp {

bool operator==(const UpdateMessage& a, const UpdateMessage& b) {
  return std::ranges::equal(a.withdrawn_routes, b.withdrawn_routes) &&
         std::ranges::equal(a.path_attributes, b.path_attributes) && std::ranges::equal(a.nlri, b.nlri);
}

namespace {

const char* code_name(std::uint8_t code) {
  switch (code) {
    case err::kHeader: return "Message Header Error";
    case err::kOpen: return "OPEN Message Error";
    case err::kUpdate: return "UPDATE Message Error";
    case err::kHoldTimer: return "Hold Timer Expired";
    case err::kFsm: return "Finite State Machine Error";
    case err::kCease: return "Cease";
    case err::kRouteRefresh: return "ROUTE-REFRESH Message Error";
  }
  return "unknown error code";
}

}  // namespace

std::string describe(const NotificationMessage& n) {
  return std::to_string(n.code) + "/" + std::to_string(n.subcode) + " (" + code_name(n.code) + ")";
}

MessageType type_of(const Message& m) {
  return static_cast<MessageType>(m.index() + 1);
}

WireError wire_error(std::uint8_t code, std::uint8_t subcode, std::string reason, Bytes data) {
  return WireError{NotificationMessage{code, subcode, std::move(data)}, std::move(reason)};
}

WireResult<std::size_t> frame_length(ByteView buffer, FramingOptions options) {
  // RFC 4271 §6.1: the marker must be all ones (compared as two words: this runs per message).
  if (load_big_endian<std::uint64_t>(buffer.data()) != ~std::uint64_t{0} ||
      load_big_endian<std::uint64_t>(buffer.data() + 8) != ~std::uint64_t{0}) {
    return wire_error(err::kHeader, err::kNotSynchronized, "marker is not all ones");
  }
  const std::size_t length = (std::size_t{buffer[16]} << 8) | buffer[17];
  const std::uint8_t type = buffer[18];
  auto bad_length = [&](const char* why) {
    return wire_error(err::kHeader, err::kBadLength,
                      "bad message length " + std::to_string(length) + " for type " +
                          std::to_string(type) + ": " + why,
                      Bytes{buffer[16], buffer[17]});
  };
  if (type < 1 || type > 5) {
    return wire_error(err::kHeader, err::kBadType, "unknown message type " + std::to_string(type),
                      Bytes{type});
  }
  if (length < kHeaderSize) return bad_length("shorter than the header");
  const auto t = static_cast<MessageType>(type);
  // RFC 8654 §4: OPEN and KEEPALIVE stay within 4096 octets even when extended.
  const bool may_extend = options.extended_message && t != MessageType::Open && t != MessageType::Keepalive;
  if (length > (may_extend ? kMaxExtendedMessageSize : kMaxMessageSize)) return bad_length("too long");
  switch (t) {
    case MessageType::Open:
      if (length < 29) return bad_length("OPEN needs at least 29 octets");
      break;
    case MessageType::Update:
      if (length < 23) return bad_length("UPDATE needs at least 23 octets");
      break;
    case MessageType::Notification:
      if (length < 21) return bad_length("NOTIFICATION needs at least 21 octets");
      break;
    case MessageType::Keepalive:
      if (length != 19) return bad_length("KEEPALIVE is exactly 19 octets");
      break;
    case MessageType::RouteRefresh:
      break;  // RFC 7313 §5: a wrong ROUTE-REFRESH length has its own error code, see decode()
  }
  return length;
}

namespace {

WireResult<Message> decode_open(WireReader r) {
  OpenMessage open;
  std::uint8_t params_length = 0;
  r.u8(open.version);
  r.u16(open.my_as);
  r.u16(open.hold_time);
  r.u32(open.bgp_id);
  r.u8(params_length);
  // RFC 4271 §6.2: the optional parameters must exactly fill the rest of the message.
  if (params_length != r.remaining()) {
    return wire_error(err::kOpen, 0,
                      "optional parameters length " + std::to_string(params_length) + " but " +
                          std::to_string(r.remaining()) + " octets follow");
  }
  while (!r.empty()) {
    OptionalParameter p;
    std::uint8_t len = 0;
    ByteView value;
    if (!r.u8(p.type) || !r.u8(len) || !r.take(len, value)) {
      return wire_error(err::kOpen, 0, "optional parameter runs past the message");
    }
    p.value.assign(value.begin(), value.end());
    open.parameters.push_back(std::move(p));
  }
  return Message{std::move(open)};
}

WireResult<Message> decode_update(WireReader r) {
  UpdateMessage u;
  std::uint16_t withdrawn_length = 0;
  std::uint16_t attributes_length = 0;
  // RFC 7606 §4 / RFC 4271 §6.3: lengths that exceed the message are a session reset 3/1.
  r.u16(withdrawn_length);
  if (!r.take(withdrawn_length, u.withdrawn_routes)) {
    return wire_error(err::kUpdate, err::kMalformedAttributeList,
                      "withdrawn routes length " + std::to_string(withdrawn_length) + " exceeds the message");
  }
  if (!r.u16(attributes_length) || !r.take(attributes_length, u.path_attributes)) {
    return wire_error(err::kUpdate, err::kMalformedAttributeList,
                      "total path attribute length " + std::to_string(attributes_length) +
                          " exceeds the message");
  }
  u.nlri = r.rest();
  return Message{u};
}

}  // namespace

WireResult<Message> decode(ByteView message, FramingOptions options) {
  if (message.size() < kHeaderSize) {
    return wire_error(err::kHeader, err::kBadLength, "message shorter than its header");
  }
  auto length = frame_length(message, options);
  if (!length) return length.error();
  if (*length != message.size()) {
    return wire_error(err::kHeader, err::kBadLength, "header length disagrees with the message",
                      Bytes{message[16], message[17]});
  }
  WireReader r(message.subspan(kHeaderSize));
  switch (static_cast<MessageType>(message[18])) {
    case MessageType::Open:
      return decode_open(r);
    case MessageType::Update:
      return decode_update(r);
    case MessageType::Notification: {
      NotificationMessage n;
      r.u8(n.code);
      r.u8(n.subcode);
      ByteView data = r.rest();
      n.data.assign(data.begin(), data.end());
      return Message{std::move(n)};
    }
    case MessageType::Keepalive:
      return Message{KeepaliveMessage{}};
    case MessageType::RouteRefresh: {
      if (r.remaining() != 4) {
        return wire_error(err::kRouteRefresh, err::kInvalidRouteRefreshLength,
                          "ROUTE-REFRESH body is " + std::to_string(r.remaining()) + " octets, not 4",
                          Bytes(message.begin(), message.end()));
      }
      RouteRefreshMessage rr;
      r.u16(rr.afi);
      r.u8(rr.subtype);
      r.u8(rr.safi);
      return Message{rr};
    }
  }
  return wire_error(err::kHeader, err::kBadType, "unknown message type", Bytes{message[18]});
}

std::size_t begin_message(Bytes& out, MessageType type) {
  const std::size_t start = out.size();
  out.insert(out.end(), 16, 0xff);
  put_u16(out, 0);
  put_u8(out, static_cast<std::uint8_t>(type));
  return start;
}

void finish_message(Bytes& out, std::size_t start) { patch_u16(out, start + 16, out.size() - start); }

void encode_to(const Message& m, Bytes& out) {
  const std::size_t start = begin_message(out, type_of(m));
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, OpenMessage>) {
          put_u8(out, v.version);
          put_u16(out, v.my_as);
          put_u16(out, v.hold_time);
          put_u32(out, v.bgp_id);
          const std::size_t at = out.size();
          put_u8(out, 0);
          for (const auto& p : v.parameters) {
            put_u8(out, p.type);
            put_u8(out, static_cast<std::uint8_t>(p.value.size()));
            put_bytes(out, p.value);
          }
          out[at] = static_cast<std::uint8_t>(out.size() - at - 1);
        } else if constexpr (std::is_same_v<T, UpdateMessage>) {
          put_u16(out, static_cast<std::uint16_t>(v.withdrawn_routes.size()));
          put_bytes(out, v.withdrawn_routes);
          put_u16(out, static_cast<std::uint16_t>(v.path_attributes.size()));
          put_bytes(out, v.path_attributes);
          put_bytes(out, v.nlri);
        } else if constexpr (std::is_same_v<T, NotificationMessage>) {
          put_u8(out, v.code);
          put_u8(out, v.subcode);
          put_bytes(out, v.data);
        } else if constexpr (std::is_same_v<T, RouteRefreshMessage>) {
          put_u16(out, v.afi);
          put_u8(out, v.subtype);
          put_u8(out, v.safi);
        }
      },
      m);
  finish_message(out, start);
}

Bytes encode(const Message& m) {
  Bytes out;
  encode_to(m, out);
  return out;
}

}  // namespace blockd::bgp
