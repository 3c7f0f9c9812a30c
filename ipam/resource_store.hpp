// Resources in the Datastore: create/apply/replace/delete with Calico's rules (validation.hpp),
// as compare-and-swap transactions so two writers can not both win.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ipam/store/datastore.hpp"
#include "ipam/resources/resources.hpp"

namespace blockd::ipam {

enum class WriteMode {
  Create,   // fails if it exists
  Apply,    // creates or updates
  Replace,  // fails if it does not exist
};

class ResourceStore {
 public:
  explicit ResourceStore(Datastore& store) : store_(store) {}

  // Validates (filling defaults) and writes. IPPools are also checked against the other pools
  // (no overlap), their stored version (cidr and blockSize immutable) and the blocks already
  // in their range (of their blockSize); a changed pool then gives back the empty blocks of
  // the nodes it no longer selects (Calico). A BGPPeer for one node is checked against that
  // node, when it exists (an address of the peer's family).
  Status write(Resource resource, WriteMode mode);
  // Deleting an IPPool follows Calico: disable it, give back its empty blocks, delete it; its
  // blocks that hold addresses stay (and keep routing) until their last address is released.
  // Deleting a Node also gives back its empty affine blocks (blocks still holding addresses keep
  // routing and show up in `ipam check`).
  Status remove(const std::string& kind, const std::string& name);
  Result<std::optional<Resource>> get(const std::string& kind, const std::string& name);
  Result<std::vector<Resource>> list(const std::string& kind);

  Result<std::vector<IPPool>> pools();
  Result<std::vector<Node>> nodes();
  Result<Node> node(const std::string& name);

 private:
  Status remove_pool(const std::string& name);
  Status release_deselected(const IPPool& pool);

  Datastore& store_;
};

}  // namespace blockd::ipam
