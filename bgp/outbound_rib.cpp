#include "bgp/outbound_rib.hpp"

namespace blockd::bgp {

std::vector<Bytes> OutboundRib::start(const ExportContext& context, const PackOptions& options,
                                      const std::vector<AdvertisedRoute>& advertised) {
  terms_ = Terms{context, options};
  sets_ = {};
  rib_out_.clear();
  std::vector<Bytes> out = update(advertised);
  for (const auto& family : context.families) out.push_back(build_end_of_rib(family));
  return out;
}

void OutboundRib::stop() {
  terms_.reset();
  sets_ = {};
  rib_out_.clear();
}

std::vector<OutRoute> OutboundRib::exported(const std::vector<AdvertisedRoute>& advertised) {
  std::vector<OutRoute> desired;
  desired.reserve(advertised.size());
  // Consecutive routes usually share next hop and communities: reuse the last set's id.
  const AdvertisedRoute* last = nullptr;
  std::uint32_t last_id = 0;
  for (const auto& r : advertised) {
    if (!export_allowed(r, terms_->context)) continue;
    if (last && last->next_hop == r.next_hop && last->communities == r.communities &&
        last->large_communities == r.large_communities &&
        last->prefix.is_v4() == r.prefix.is_v4()) {
      desired.push_back({r.prefix, last_id});
      continue;
    }
    auto attrs = export_attributes(r, terms_->context);
    if (!attrs) continue;
    last = &r;
    last_id = sets_.intern(*attrs);
    desired.push_back({r.prefix, last_id});
  }
  normalize(desired);
  return desired;
}

std::vector<Bytes> OutboundRib::update(const std::vector<AdvertisedRoute>& advertised, bool refresh) {
  if (!terms_) return {};
  const std::vector<OutRoute> desired = exported(advertised);
  RibDiff diff = rib_out_.diff(desired);
  // A refresh announces everything, and still withdraws what the peer had but is not wanted.
  if (refresh) diff.announce = desired;
  if (diff.empty()) return {};
  std::vector<Bytes> messages = pack_updates(diff, sets_, terms_->options);
  rib_out_.apply(diff);
  return messages;
}

}  // namespace blockd::bgp
