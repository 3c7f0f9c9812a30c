// blockd's nftables table for natOutgoing (ARCHITECTURE.md, Routes): desired-state and
// level-triggered like the route programmer. reconcile() lists the table, plans the difference
// (nat_ruleset.hpp) and applies it as one nft transaction: set elements added and deleted for a
// pool change, the table recreated when someone deleted or edited it. It names only its own
// table in every command, so no other table is ever touched. Single-threaded: one agent thread
// calls it; the netlink socket lives in the network namespace of the thread that opened it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ipam/net/result.hpp"
#include "netlink/nat_ruleset.hpp"
#include "netlink/nft.hpp"

namespace blockd::netlink {

struct NatReport {
  NatPlan::Kind kind = NatPlan::Kind::Unchanged;
  std::vector<std::string> defects;  // what was found wrong or missing ("set nat_pools_v4 missing")
  std::size_t elements_added = 0, elements_removed = 0;
  std::size_t rules_added = 0, rules_removed = 0;
  bool changed() const { return kind != NatPlan::Kind::Unchanged; }
  std::string summary() const;  // "update: elements +1 -0, rules +0 -0"
};

class NatTable {
 public:
  // Opens libnftables in the calling thread's network namespace. `table_name` is checked to be
  // an nft identifier (letters, digits, '_'; a letter first).
  static Result<std::unique_ptr<NatTable>> open(std::string table_name = "blockd");
  // Over any Nft (the scripted fake in unit tests).
  NatTable(std::unique_ptr<Nft> nft, std::string table_name);

  // Converges table inet TABLE to `desired`. An error (nft's message and the command) when
  // nftables could not be read or refused the change; the table is then as before the call
  // (a transaction is all or nothing) and the next call tries again.
  Result<NatReport> reconcile(const NatDesired& desired);
  // Deletes the table; absent is success (`blockd --cleanup`).
  Status cleanup();

  const std::string& table_name() const { return table_; }

 private:
  // The table as listed; nullopt when it does not exist.
  Result<std::optional<NatListing>> list();
  Result<bool> exists();

  std::unique_ptr<Nft> nft_;
  std::string table_;
};

// Whether `name` is usable as an nft table name; the error names the rule broken.
Status validate_table_name(const std::string& name);

}  // namespace blockd::netlink
