#include "tests/support/netlink/fake_nft.hpp"

namespace blockd::netlink {

namespace {
const char* kMetainfo =
    R"({"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}})";
}

Result<std::string> FakeNft::run(const std::string& script, bool json_output) {
  commands.push_back(script);
  if (script == "list tables inet") {
    if (fail_listing) return unavailable("nftables refused `list tables inet`: Operation not permitted");
    std::string out = std::string(R"({"nftables": [)") + kMetainfo;
    if (table_json)
      out += R"(, {"table": {"family": "inet", "name": ")" + table_name + R"(", "handle": 1}})";
    return out + "]}";
  }
  if (script == "list table inet " + table_name) {
    if (fail_listing)
      return unavailable("nftables refused `" + script + "`: Operation not permitted");
    if (!table_json) return unavailable("nftables refused `" + script + "`: Error: No such file or directory");
    return json_output ? *table_json : std::string("table inet ") + table_name + " {}";
  }
  if (!refusals.empty()) {
    Error e = refusals.front();
    refusals.pop_front();
    refused.push_back(script);
    return e;
  }
  applied.push_back(script);
  return std::string();
}

}  // namespace blockd::netlink
