// The distributed Datastore: etcd v3 through its JSON gateway (ipam/etcd_gateway.hpp).
// A commit is one etcd transaction whose failure branch reads every compared key, so a caller
// that lost a compare-and-swap has the current values without another round trip. A watch
// keeps its own connection and, when it drops, resumes from the last delivered revision on
// the next call (on any member); a compacted start revision is reported as NotFound "compacted".
#pragma once

#include <memory>
#include <string>

#include "ipam/store/datastore.hpp"
#include "ipam/store/etcd_gateway.hpp"
#include "ipam/store/etcd_options.hpp"

namespace blockd::ipam {

class EtcdStore : public Datastore {
 public:
  static Result<std::unique_ptr<EtcdStore>> open(EtcdOptions options);
  static Result<std::unique_ptr<EtcdStore>> open(const std::string& url);  // etcd://...

  Result<std::optional<KeyValue>> get(const std::string& key) override;
  Result<ListResult> list(const std::string& prefix) override;
  Result<ListResult> list_keys(const std::string& prefix) override;
  // At most kMaxReadsPerTransaction reads per round trip (etcd's --max-txn-ops is 128 by default),
  // each batch at one revision.
  Result<std::vector<ListResult>> read_many(const std::vector<Read>& reads) override;
  Result<TransactionResult> commit(const Transaction& txn) override;
  Result<std::unique_ptr<Watch>> watch(const std::string& prefix, std::int64_t after) override;
  std::string describe() const override { return gateway_->describe(); }

 private:
  class EtcdWatch;
  explicit EtcdStore(std::shared_ptr<EtcdGateway> gateway) : gateway_(std::move(gateway)) {}
  std::shared_ptr<EtcdGateway> gateway_;
};

}  // namespace blockd::ipam
