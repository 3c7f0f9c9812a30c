#include "ipam/ipam_settings_reader.hpp"

#include "ipam/keys.hpp"
#include "ipam/resources/resource_codec.hpp"

namespace blockd::ipam {

namespace {

// IPAMConfiguration and IPReservation share this prefix with nothing but IPPools.
std::string settings_prefix() { return keys::kResources + "ip"; }

}  // namespace

std::vector<Unchanged> IpamSettings::guards() const {
  // One compare over the prefix that was read, not one per kind: each range compare costs etcd
  // about a tenth of the transaction. An IPPool written since (rare: an operator's change) only
  // makes the next commit read the settings again.
  return {{settings_prefix(), revision}};
}

Result<IpamSettings> read_ipam_settings(Datastore& store) {
  const std::string config_folder = keys::resource_folder("IPAMConfiguration");
  const std::string reservation_folder = keys::resource_folder("IPReservation");
  auto listed = store.list(settings_prefix());
  if (!listed) return listed.error();
  IpamSettings settings;
  settings.revision = listed->revision;
  std::vector<IPReservation> reservations;
  for (const auto& kv : listed->kvs) {
    const bool config = kv.key == config_folder + "default";
    if (!config && !kv.key.starts_with(reservation_folder)) continue;
    auto doc = nlohmann::json::parse(kv.value, nullptr, false);
    if (doc.is_discarded()) return internal(kv.key + ": stored resource is not JSON");
    auto r = resource_from_json(doc);
    if (!r) return r.error().within(kv.key);
    if (auto* c = std::get_if<IPAMConfiguration>(&*r)) settings.config = std::move(*c);
    if (auto* res = std::get_if<IPReservation>(&*r)) reservations.push_back(std::move(*res));
  }
  settings.reserved = ReservedAddresses::of(reservations);
  return settings;
}

}  // namespace blockd::ipam
