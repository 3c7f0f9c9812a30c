#include "bgp/update_packer.hpp"

#include <set>

namespace blockd::bgp {

namespace {

// Builds UPDATEs that share everything but their prefixes: a template (header, fixed fields,
// attributes) is copied per message and prefixes are appended until the next one would not
// fit. No per-prefix copies: a million prefixes pack in one pass over the diff per group.
class MessageRun {
 public:
  enum class Kind { Withdraw4, Withdraw6, Announce4, Announce6 };

  MessageRun(Kind kind, const PathAttributes* attrs, const PackOptions& options, std::vector<Bytes>& out)
      : kind_(kind), max_(options.max_message_size), out_(out) {
    begin_message(template_, MessageType::Update);
    switch (kind) {
      case Kind::Withdraw4:
        put_u16(template_, 0);  // withdrawn routes length, patched
        trailer_ = {0, 0};      // total path attribute length: none
        break;
      case Kind::Withdraw6:
        put_u16(template_, 0);
        put_u16(template_, 0);  // total path attribute length, patched
        put_mp_header(attr::kMpUnreach, 2);
        break;
      case Kind::Announce4:
        put_u16(template_, 0);
        put_u16(template_, 0);
        encode_attributes(*attrs, options.four_octet_as, template_);
        patch_u16(template_, kHeaderSize + 2, template_.size() - kHeaderSize - 4);
        break;
      case Kind::Announce6: {
        put_u16(template_, 0);
        put_u16(template_, 0);
        put_mp_header(attr::kMpReach, 2);
        const Address nh = attrs->mp_next_hop.value_or(Address::from_value(ipam::Family::V6, 0));
        const bool ll = attrs->mp_next_hop_link_local.has_value();
        put_u8(template_, static_cast<std::uint8_t>(16 + (ll ? 16 : 0)));
        put_bytes(template_, nh.bytes());
        if (ll) put_bytes(template_, attrs->mp_next_hop_link_local->bytes());
        put_u8(template_, 0);  // reserved
        PathAttributes rest = *attrs;
        rest.next_hop.reset();
        encode_attributes(rest, options.four_octet_as, trailer_);
        break;
      }
    }
  }
  ~MessageRun() { finish(); }

  void add(const Prefix& p) {
    const std::size_t n = prefix_wire_size(p);
    if (!current_.empty() && current_.size() + n + trailer_.size() > max_) finish();
    if (current_.empty()) current_ = template_;
    put_prefix(current_, p);
  }

 private:
  // MP_REACH/MP_UNREACH always with the two-octet length (RFC 4271 §4.3 Extended Length).
  void put_mp_header(std::uint8_t type, std::uint16_t afi) {
    put_u8(template_, attr::kOptional | attr::kExtendedLength);
    put_u8(template_, type);
    mp_length_at_ = template_.size();
    put_u16(template_, 0);
    put_u16(template_, afi);
    put_u8(template_, kSafiUnicast);
  }

  void finish() {
    if (current_.empty()) return;
    switch (kind_) {
      case Kind::Withdraw4:
        patch_u16(current_, kHeaderSize, current_.size() - kHeaderSize - 2);
        put_bytes(current_, trailer_);
        break;
      case Kind::Withdraw6:
      case Kind::Announce6:
        patch_u16(current_, mp_length_at_, current_.size() - mp_length_at_ - 2);
        put_bytes(current_, trailer_);
        patch_u16(current_, kHeaderSize + 2, current_.size() - kHeaderSize - 4);
        break;
      case Kind::Announce4:
        break;
    }
    finish_message(current_, 0);
    out_.push_back(std::move(current_));
    current_.clear();
  }

  Kind kind_;
  std::size_t max_;
  std::vector<Bytes>& out_;
  Bytes template_;
  Bytes trailer_;  // attributes after MP_REACH_NLRI
  Bytes current_;
  std::size_t mp_length_at_ = 0;
};

}  // namespace

std::vector<Bytes> pack_updates(const RibDiff& diff, const AttributeSets& sets, const PackOptions& options) {
  std::vector<Bytes> out;
  {
    MessageRun w4(MessageRun::Kind::Withdraw4, nullptr, options, out);
    for (const auto& p : diff.withdraw) {
      if (p.is_v4()) w4.add(p);
    }
  }
  {
    MessageRun w6(MessageRun::Kind::Withdraw6, nullptr, options, out);
    for (const auto& p : diff.withdraw) {
      if (!p.is_v4()) w6.add(p);
    }
  }
  // One pass over the announcements per attribute set and family (few sets per peer).
  std::set<std::uint32_t> ids;
  for (const auto& r : diff.announce) ids.insert(r.attributes);
  for (const auto id : ids) {
    const PathAttributes& attrs = sets.get(id);
    {
      MessageRun a4(MessageRun::Kind::Announce4, &attrs, options, out);
      for (const auto& r : diff.announce) {
        if (r.attributes == id && r.prefix.is_v4()) a4.add(r.prefix);
      }
    }
    MessageRun a6(MessageRun::Kind::Announce6, &attrs, options, out);
    for (const auto& r : diff.announce) {
      if (r.attributes == id && !r.prefix.is_v4()) a6.add(r.prefix);
    }
  }
  return out;
}

}  // namespace blockd::bgp
