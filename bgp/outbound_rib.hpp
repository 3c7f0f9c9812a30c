// What one peer is sent, built apart from the sending (OpenBGPD's rde_update.c beside the
// session engine): each route to advertise goes through the export policy
// (export_policy.hpp), its attribute set is interned (rib.hpp: AttributeSets), the result is
// diffed against the Adj-RIB-Out (what the peer has been sent) and the difference packed into
// UPDATEs (update_packer.hpp). Pure: no socket, no clock, no lock; `Peer` (session.cpp) only
// sends the messages it returns.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "bgp/export_policy.hpp"
#include "bgp/rib.hpp"
#include "bgp/update_packer.hpp"

namespace blockd::bgp {

class OutboundRib {
 public:
  // A session came up on these terms (negotiated families, our address on it, message size):
  // the peer has nothing from us yet. The initial UPDATEs for `advertised`, then End-of-RIB
  // for every negotiated family (RFC 4724 §2).
  std::vector<Bytes> start(const ExportContext& context, const PackOptions& options,
                           const std::vector<AdvertisedRoute>& advertised);
  // The session is gone, and with it everything the peer had from us.
  void stop();
  bool running() const { return terms_.has_value(); }

  // The UPDATEs that move the peer from what it has to `advertised` (none when it has that
  // already, or while stopped). `refresh`: announce every route again (a ROUTE-REFRESH,
  // RFC 2918 §4) and withdraw what is no longer wanted.
  std::vector<Bytes> update(const std::vector<AdvertisedRoute>& advertised, bool refresh = false);

  // How many prefixes the peer has from us.
  std::size_t size() const { return rib_out_.size(); }

 private:
  struct Terms {
    ExportContext context;
    PackOptions options;
  };
  // `advertised` as (prefix, attribute set id), in prefix order, without what the peer cannot take.
  std::vector<OutRoute> exported(const std::vector<AdvertisedRoute>& advertised);

  std::optional<Terms> terms_;
  AttributeSets sets_;  // per session: the ids in rib_out_ refer to them
  AdjRibOut rib_out_;
};

}  // namespace blockd::bgp
