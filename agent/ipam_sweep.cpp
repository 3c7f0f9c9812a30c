#include "agent/ipam_sweep.hpp"

namespace blockd::agent {

Result<SweepResult> sweep_node_ipam(ipam::Allocator& allocator, PodGateways& gateways, const ClusterView& view,
                                    const std::string& node, const ipam::Labels& labels) {
  // Gateways first: a released gateway may leave a de-selected block empty.
  auto released = gateways.release_unused_in(view.blocks, view.resources->pools);
  if (!released) return released.error();
  if (auto ok = allocator.release_deselected_blocks({node, labels, view.resources->pools}); !ok) return ok.error();
  return SweepResult{*released};
}

}  // namespace blockd::agent
