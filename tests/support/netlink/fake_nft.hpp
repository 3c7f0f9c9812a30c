// A scripted nftables for unit tests of NatTable's logic: it answers listings from the JSON a
// test sets, records every script it is asked to apply, and can refuse them. It does not
// interpret nft syntax; the real thing is tested in a network namespace.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "netlink/nft.hpp"

namespace blockd::netlink {

class FakeNft final : public Nft {
 public:
  Result<std::string> run(const std::string& script, bool json_output) override;

  // What `list table inet TABLE` prints; nullopt: the table does not exist.
  std::optional<std::string> table_json;
  std::string table_name = "blockd";
  // Errors for the next applied scripts, in order (an empty queue accepts).
  std::deque<Error> refusals;
  bool fail_listing = false;

  std::vector<std::string> applied;   // scripts accepted
  std::vector<std::string> refused;   // scripts refused
  std::vector<std::string> commands;  // every script, listings included
};

}  // namespace blockd::netlink
