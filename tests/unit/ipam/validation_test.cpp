// Every rule of the resource reference, as a table of input -> exact message. Inputs go through
// parse_resources_yaml (decode + validate), as `blockctl create -f` does.
#include "ipam/resources/validation.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ipam/resource_store.hpp"
#include "ipam/resources/resource_codec.hpp"
#include "ipam/store/memory_store.hpp"

namespace blockd::ipam {
namespace {

struct Case {
  std::string yaml;
  std::string message;  // empty: the document is valid
};

void check(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    auto r = parse_resources_yaml(c.yaml);
    if (c.message.empty()) {
      EXPECT_TRUE(r.ok()) << c.yaml << "\n -> " << (r.ok() ? "" : r.error().message);
    } else {
      ASSERT_FALSE(r.ok()) << c.yaml;
      EXPECT_EQ(r.error().message, c.message) << c.yaml;
      EXPECT_EQ(r.error().code, ErrorCode::Invalid);
    }
  }
}

std::string pool(const std::string& spec, const std::string& name = "rack-0-ippool") {
  return "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: " + name + "\nspec:\n" + spec;
}
std::string node(const std::string& spec, const std::string& name = "kube-node-0",
                 const std::string& labels = "") {
  return "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: " + name + "\n" + labels +
         "spec:\n" + spec;
}
std::string peer(const std::string& spec, const std::string& name = "tor-0") {
  return "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: " + name + "\nspec:\n" + spec;
}
std::string bgpconfig(const std::string& spec, const std::string& name = "default") {
  return "apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: " + name + "\nspec:\n" + spec;
}
std::string node_config(const std::string& spec) { return bgpconfig(spec, "node.n1"); }

const std::string kP = "document 1: IPPool rack-0-ippool: ";

TEST(IPPoolRules, Name) {
  const std::string rule =
      "is not valid (alphanumerics with optional '.', '_' or '-', starting and ending with an "
      "alphanumeric, at most 253 characters)";
  check({
      {pool("  cidr: 10.0.0.0/24\n", "my.ippool-1"), ""},
      {pool("  cidr: 10.0.0.0/24\n", "My_Pool.2"), ""},
      {pool("  cidr: 10.0.0.0/24\n", "\"my pool\""),
       "document 1: IPPool my pool: metadata.name: \"my pool\" " + rule},
      {pool("  cidr: 10.0.0.0/24\n", "-pool"), "document 1: IPPool -pool: metadata.name: \"-pool\" " + rule},
      {pool("  cidr: 10.0.0.0/24\n", "pool."), "document 1: IPPool pool.: metadata.name: \"pool.\" " + rule},
      {pool("  cidr: 10.0.0.0/24\n", "pool/a"), "document 1: IPPool pool/a: metadata.name: \"pool/a\" " + rule},
      {pool("  cidr: 10.0.0.0/24\n", std::string(253, 'p')), ""},
      {pool("  cidr: 10.0.0.0/24\n", std::string(254, 'p')),
       "document 1: IPPool " + std::string(254, 'p') + ": metadata.name: \"" + std::string(254, 'p') + "\" " +
           rule},
      {pool("  cidr: 10.0.0.0/24\n", "\"\""), "document 1: IPPool: metadata.name: required"},
  });
}

TEST(IPPoolRules, Cidr) {
  check({
      {pool("  cidr: 192.168.0.0/24\n"), ""},
      {pool("  cidr: fd00:10::/64\n"), ""},
      {pool("  natOutgoing: true\n"), kP + "spec.cidr: required (e.g. 192.168.0.0/24)"},
      {pool("  cidr: 10.0.0.1\n"),
       kP + "spec.cidr: \"10.0.0.1\" is not a CIDR (expected address/length, e.g. 192.168.0.0/24)"},
      {pool("  cidr: 192.168.0.1/24\n"),
       kP + "spec.cidr: \"192.168.0.1/24\" has host bits set (did you mean 192.168.0.0/24?)"},
      {pool("  cidr: 300.0.0.0/24\n"), kP + "spec.cidr: \"300.0.0.0/24\" is not a valid CIDR"},
      {pool("  cidr: 10.0.0.0/33\n"), kP + "spec.cidr: \"10.0.0.0/33\": prefix length 33 exceeds 32 for IPv4"},
      {pool("  cidr: fd00::/129\n"), kP + "spec.cidr: \"fd00::/129\": prefix length 129 exceeds 128 for IPv6"},
      {pool("  cidr: 10.0.0.0/x\n"), kP + "spec.cidr: \"10.0.0.0/x\": prefix length \"x\" is not a number"},
      {pool("  cidr: 24\n"), kP + "spec.cidr: expected a string, got the number 24"},
  });
}

TEST(IPPoolRules, CidrHoldsAtLeastOneBlock) {
  check({
      {pool("  cidr: 192.168.0.0/26\n"), ""},
      {pool("  cidr: 192.168.0.0/27\n"),
       kP + "spec.cidr: 192.168.0.0/27 is smaller than one block (blockSize 26 needs a prefix length of at "
            "most 26)"},
      {pool("  cidr: 192.168.0.0/27\n  blockSize: 28\n"), ""},
      {pool("  cidr: 192.168.0.0/24\n  blockSize: 20\n"),
       kP + "spec.cidr: 192.168.0.0/24 is smaller than one block (blockSize 20 needs a prefix length of at "
            "most 20)"},
      {pool("  cidr: fd00::/123\n"),
       kP + "spec.cidr: fd00::/123 is smaller than one block (blockSize 122 needs a prefix length of at most "
            "122)"},
      // Calico checks the size of enabled pools only: a disabled pool hands out no block.
      {pool("  cidr: 192.168.0.0/27\n  disabled: true\n"), ""},
  });
}

TEST(IPPoolRules, NoOverlapWithLinkLocal) {
  check({
      {pool("  cidr: 169.254.0.0/24\n"), kP + "spec.cidr: 169.254.0.0/24 overlaps the link-local range 169.254.0.0/16"},
      {pool("  cidr: 169.254.0.0/16\n"), kP + "spec.cidr: 169.254.0.0/16 overlaps the link-local range 169.254.0.0/16"},
      {pool("  cidr: 169.0.0.0/8\n"), kP + "spec.cidr: 169.0.0.0/8 overlaps the link-local range 169.254.0.0/16"},
      {pool("  cidr: 169.253.0.0/16\n"), ""},
      {pool("  cidr: fe80::/64\n"), kP + "spec.cidr: fe80::/64 overlaps the link-local range fe80::/10"},
      {pool("  cidr: febf:ffff::/64\n"), kP + "spec.cidr: febf:ffff::/64 overlaps the link-local range fe80::/10"},
      {pool("  cidr: fec0::/64\n"), ""},
  });
}

TEST(IPPoolRules, BlockSizeRangeAndDefaults) {
  check({
      {pool("  cidr: 10.0.0.0/16\n  blockSize: 20\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  blockSize: 32\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  blockSize: 33\n"), kP + "spec.blockSize: 33 is out of range (20 to 32 for IPv4)"},
      {pool("  cidr: 10.0.0.0/16\n  blockSize: 19\n"), kP + "spec.blockSize: 19 is out of range (20 to 32 for IPv4)"},
      {pool("  cidr: 10.0.0.0/16\n  blockSize: -1\n"), kP + "spec.blockSize: -1 is out of range (20 to 32 for IPv4)"},
      {pool("  cidr: 10.0.0.0/16\n  blockSize: 99999999999\n"),
       kP + "spec.blockSize: 99999999999 is out of range (20 to 32 for IPv4)"},
      {pool("  cidr: fd00::/64\n  blockSize: 116\n"), ""},
      {pool("  cidr: fd00::/64\n  blockSize: 128\n"), ""},
      {pool("  cidr: fd00::/64\n  blockSize: 115\n"), kP + "spec.blockSize: 115 is out of range (116 to 128 for IPv6)"},
      {pool("  cidr: fd00::/64\n  blockSize: 129\n"), kP + "spec.blockSize: 129 is out of range (116 to 128 for IPv6)"},
      {pool("  cidr: fd00::/64\n  blockSize: 26\n"), kP + "spec.blockSize: 26 is out of range (116 to 128 for IPv6)"},
      {pool("  cidr: 10.0.0.0/16\n  blockSize: \"26\"\n"), kP + "spec.blockSize: expected an integer, got the string \"26\""},
      {pool("  cidr: 10.0.0.0/16\n  blockSize: 26.5\n"), kP + "spec.blockSize: expected an integer, got the string \"26.5\""},
  });
  auto v4 = parse_resources_yaml(pool("  cidr: 10.0.0.0/16\n"));
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(std::get<IPPool>(v4->at(0)).block_size, 26u);
  auto v6 = parse_resources_yaml(pool("  cidr: fd00::/64\n"));
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(std::get<IPPool>(v6->at(0)).block_size, 122u);
  auto zero = parse_resources_yaml(pool("  cidr: 10.0.0.0/16\n  blockSize: 0\n"));
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(std::get<IPPool>(zero->at(0)).block_size, 26u);
}

TEST(IPPoolRules, EncapsulationModes) {
  const std::string both = kP + "spec.vxlanMode: ";
  check({
      {pool("  cidr: 10.0.0.0/16\n  ipipMode: Always\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  ipipMode: CrossSubnet\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  ipipMode: Never\n  vxlanMode: Always\n"), ""},
      // vxlanMode CrossSubnet as later Calico releases accept (the reference page predates it).
      {pool("  cidr: 10.0.0.0/16\n  vxlanMode: CrossSubnet\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  ipipMode: always\n"),
       kP + "spec.ipipMode: \"always\" is not one of Always, CrossSubnet, Never (did you mean Always?)"},
      {pool("  cidr: 10.0.0.0/16\n  vxlanMode: cross-subnet\n"),
       kP + "spec.vxlanMode: \"cross-subnet\" is not one of Always, CrossSubnet, Never (did you mean CrossSubnet?)"},
      {pool("  cidr: 10.0.0.0/16\n  ipipMode: Sometimes\n"),
       kP + "spec.ipipMode: \"Sometimes\" is not one of Always, CrossSubnet, Never"},
      {pool("  cidr: 10.0.0.0/16\n  ipipMode: true\n"),
       kP + "spec.ipipMode: expected a string, got the boolean true"},
      {pool("  cidr: 10.0.0.0/16\n  ipipMode: Always\n  vxlanMode: Always\n"),
       both + "Always cannot be set at the same time as ipipMode (ipipMode is Always; set one of them to Never)"},
      {pool("  cidr: 10.0.0.0/16\n  ipipMode: CrossSubnet\n  vxlanMode: CrossSubnet\n"),
       both + "CrossSubnet cannot be set at the same time as ipipMode (ipipMode is CrossSubnet; set one of "
              "them to Never)"},
      {pool("  cidr: fd00::/64\n  ipipMode: Always\n"),
       kP + "spec.ipipMode: Always is not supported on an IPv6 pool (IPIP carries IPv4 only; use vxlanMode)"},
      {pool("  cidr: fd00::/64\n  vxlanMode: Always\n"), ""},
  });
}

TEST(IPPoolRules, FlagsAllowedUsesAndSelector) {
  check({
      {pool("  cidr: 10.0.0.0/16\n  natOutgoing: yes\n"),
       kP + "spec.natOutgoing: expected true or false, got the string \"yes\""},
      {pool("  cidr: 10.0.0.0/16\n  disabled: \"true\"\n"),
       kP + "spec.disabled: expected true or false, got the string \"true\""},
      {pool("  cidr: 10.0.0.0/16\n  strictAffinity: 1\n"),
       kP + "spec.strictAffinity: expected true or false, got the number 1"},
      {pool("  cidr: 10.0.0.0/16\n  allowedUses: [Workload]\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  allowedUses: [Workload, Foo]\n"),
       kP + "spec.allowedUses: \"Foo\" is not one of Workload, Tunnel"},
      {pool("  cidr: 10.0.0.0/16\n  allowedUses: Workload\n"),
       kP + "spec.allowedUses: expected a list, got the string \"Workload\""},
      {pool("  cidr: 10.0.0.0/16\n  nodeSelector: rack == \"0\" || !has(rack)\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  nodeSelector: 'rack == '\n"),
       kP + "spec.nodeSelector: selector \"rack == \": at position 8: expected a quoted value after =="},
      {pool("  cidr: 10.0.0.0/16\n  nodeSelector: rack == \u2018" "0\u2019\n"),
       kP + "spec.nodeSelector: selector \"rack == \u2018" "0\u2019\": at position 8: use ' or \" instead of a "
            "typographic quote"},
  });
  auto blank = parse_resources_yaml(pool("  cidr: 10.0.0.0/16\n  nodeSelector: \"\"\n  allowedUses: []\n"));
  ASSERT_TRUE(blank.ok()) << blank.error().message;
  EXPECT_EQ(std::get<IPPool>(blank->at(0)).node_selector, "all()");
  EXPECT_EQ(std::get<IPPool>(blank->at(0)).allowed_uses, (std::vector<std::string>{"Workload", "Tunnel"}));
}

TEST(IPPoolRules, MetadataLabelsAndAnnotationsAsKubernetes) {
  const std::string labels = "  labels:\n    projectcalico.org/Label: \"" + std::string(63, 'x') + "\"\n";
  const std::string annotations = "  annotations:\n    ProjectCalico.org/Note: free text, any length\n";
  check({
      {"apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: rack-0-ippool\n" + labels +
           annotations + "spec:\n  cidr: 10.0.0.0/16\n",
       ""},
      {"apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: rack-0-ippool\n  labels:\n"
       "    Example.com/rack: \"0\"\nspec:\n  cidr: 10.0.0.0/16\n",
       kP + "metadata.labels: label key \"Example.com/rack\" is not valid: the prefix before '/' must be a DNS "
            "subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)"},
      {"apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: rack-0-ippool\n  labels:\n"
       "    rack: \"-0\"\nspec:\n  cidr: 10.0.0.0/16\n",
       kP + "metadata.labels.rack: label value \"-0\" is not valid: at most 63 letters, digits, '.', '_' or "
            "'-', starting and ending with a letter or digit"},
      {"apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: rack-0-ippool\n  annotations:\n"
       "    \"a b\": x\nspec:\n  cidr: 10.0.0.0/16\n",
       kP + "metadata.annotations: annotation key \"a b\" is not valid: the name part may hold only letters, "
            "digits, '.', '_' and '-'"},
      {"apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: rack-0-ippool\n  annotations:\n"
       "    note: " + std::string(256 * 1024, 'x') + "\nspec:\n  cidr: 10.0.0.0/16\n",
       kP + "metadata.annotations: keys and values hold 262148 bytes, more than the 262144 (256 KiB) "
            "Kubernetes allows"},
  });
}

TEST(IPPoolRules, AssignmentMode) {
  check({
      {pool("  cidr: 10.0.0.0/16\n  assignmentMode: Automatic\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  assignmentMode: Manual\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  assignmentMode: manual\n"),
       kP + "spec.assignmentMode: \"manual\" is not one of Automatic, Manual (did you mean Manual?)"},
      {pool("  cidr: 10.0.0.0/16\n  assignmentMode: \"\"\n"),
       kP + "spec.assignmentMode: \"\" is not one of Automatic, Manual"},
      {pool("  cidr: 10.0.0.0/16\n  assignmentMode: true\n"),
       kP + "spec.assignmentMode: expected Automatic or Manual, got the boolean true"},
  });
  auto absent = parse_resources_yaml(pool("  cidr: 10.0.0.0/16\n"));
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(std::get<IPPool>(absent->at(0)).assignment_mode, AssignmentMode::Automatic);
}

TEST(IPPoolRules, NamespaceSelectorOnlyWhenItPicksEveryNamespace) {
  check({
      {pool("  cidr: 10.0.0.0/16\n  namespaceSelector: all()\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  namespaceSelector: \"\"\n"), ""},
      {pool("  cidr: 10.0.0.0/16\n  namespaceSelector: team == 'a'\n"),
       kP + "spec.namespaceSelector: \"team == 'a'\" is not supported: blockd allocates for CNI calls, which "
            "carry no namespace labels, so it cannot tell which namespaces a selector picks; leave it empty "
            "or all() (every namespace) and choose pools by nodeSelector"},
      {pool("  cidr: 10.0.0.0/16\n  namespaceSelector: 'team == '\n"),
       kP + "spec.namespaceSelector: selector \"team == \": at position 8: expected a quoted value after =="},
      {pool("  cidr: 10.0.0.0/16\n  namespaceSelector: global()\n"),
       kP + "spec.namespaceSelector: global() is not valid in an IPPool (it is for a policy's "
            "namespaceSelector); use all()"},
      {pool("  cidr: 10.0.0.0/16\n  nodeSelector: global() || rack == '0'\n"),
       kP + "spec.nodeSelector: global() is not valid in an IPPool (it is for a policy's namespaceSelector); "
            "use all()"},
  });
}

TEST(IPPoolRules, LoadBalancerUseIsOutOfScope) {
  check({
      {pool("  cidr: 10.0.0.0/16\n  allowedUses: [LoadBalancer]\n"),
       kP + "spec.allowedUses: LoadBalancer is not supported: LoadBalancer IPAM (addresses for Services) is "
            "out of scope for blockd, which assigns Workload and Tunnel addresses only"},
  });
}

TEST(IPPoolRules, UnknownFieldsAreErrors) {
  check({
      {pool("  cidr: 10.0.0.0/16\n  ipipmode: Always\n"),
       kP + "unknown field spec.ipipmode (did you mean spec.ipipMode?)"},
      {pool("  cidr: 10.0.0.0/16\n  nat_outgoing: true\n"),
       kP + "unknown field spec.nat_outgoing (did you mean spec.natOutgoing?)"},
      {pool("  cidr: 10.0.0.0/16\n  ipip:\n    enabled: true\n"), kP + "unknown field spec.ipip: blockd does not implement it, so nothing was stored"},
      {pool("  cidr: 10.0.0.0/16\n") + "status: {}\nextra: 1\n", kP + "unknown field extra: blockd does not implement it, so nothing was stored"},
      {pool("  cidr: 10.0.0.0/16\n") + "Spec: {}\n", kP + "unknown field Spec (did you mean spec?)"},
  });
}

TEST(IPPoolChanges, NoOverlapWithAnotherPoolAndCidrAndBlockSizeAreFixed) {
  auto P = [](const char* name, const char* cidr, unsigned block = 26) {
    IPPool p;
    p.name = name;
    p.cidr = Prefix::parse(cidr).value();
    p.block_size = block;
    return p;
  };
  const std::vector<IPPool> existing = {P("rack-0-ippool", "192.168.0.0/24"), P("v6", "fd00::/64", 122)};
  struct ChangeCase {
    IPPool pool;
    const IPPool* previous;
    std::string message;
  };
  const IPPool stored_rack0 = existing[0];
  const IPPool rack0_blocks28 = P("rack-0-ippool", "192.168.0.0/24", 28);
  const IPPool rack0_default = P("rack-0-ippool", "192.168.0.0/24", 0);
  const std::vector<ChangeCase> cases = {
      {P("rack-1-ippool", "192.168.1.0/24"), nullptr, ""},
      {P("rack-1-ippool", "192.168.0.128/25"), nullptr,
       "IPPool rack-1-ippool: spec.cidr: 192.168.0.128/25 overlaps IPPool rack-0-ippool (192.168.0.0/24)"},
      {P("default-ipv4-ippool", "192.168.0.0/16"), nullptr,
       "IPPool default-ipv4-ippool: spec.cidr: 192.168.0.0/16 overlaps IPPool rack-0-ippool (192.168.0.0/24)"},
      {P("v6b", "fd00::/48", 122), nullptr, "IPPool v6b: spec.cidr: fd00::/48 overlaps IPPool v6 (fd00::/64)"},
      {P("v4", "0.0.0.0/0"), nullptr, "IPPool v4: spec.cidr: 0.0.0.0/0 overlaps IPPool rack-0-ippool (192.168.0.0/24)"},
      // The stored version of the same pool is not "another pool".
      {P("rack-0-ippool", "192.168.0.0/24"), &stored_rack0, ""},
      // Calico: "IPPool CIDR cannot be modified".
      {P("rack-0-ippool", "192.168.0.0/23"), &stored_rack0,
       "IPPool rack-0-ippool: spec.cidr: cannot be modified (it is 192.168.0.0/24, the new version has "
       "192.168.0.0/23; create a new pool, then delete this one)"},
      {rack0_blocks28, &stored_rack0,
       "IPPool rack-0-ippool: spec.blockSize: cannot change after the pool is created (it is 26, the new "
       "version has 28; create a new pool instead)"},
      {rack0_default, &stored_rack0, ""},  // 0 means the default, 26: unchanged
      {stored_rack0, &rack0_blocks28,
       "IPPool rack-0-ippool: spec.blockSize: cannot change after the pool is created (it is 28, the new "
       "version has 26; create a new pool instead)"},
  };
  for (const auto& c : cases) {
    auto s = validate_pool_change(c.pool, existing, c.previous);
    if (c.message.empty()) {
      EXPECT_TRUE(s.ok()) << c.pool.name << ": " << s.error().message;
    } else {
      ASSERT_FALSE(s.ok()) << c.pool.name;
      EXPECT_EQ(s.error().message, c.message);
    }
  }
}

TEST(NodeRules, NameLabelsAndAddresses) {
  const std::string N = "document 1: Node kube-node-0: ";
  check({
      {node("  bgp:\n    ipv4Address: 10.0.0.10/24\n    asNumber: 65002\n"), ""},
      {node("  bgp:\n    ipv4Address: 10.0.0.10/24\n", "kube node"),
       "document 1: Node kube node: metadata.name: \"kube node\" is not valid (alphanumerics with optional "
       "'.', '_' or '-', starting and ending with an alphanumeric, at most 253 characters)"},
      {node("  {}\n", "kube-node-0", "  labels:\n    \"a b\": x\n"),
       N + "metadata.labels: label key \"a b\" is not valid: the name part may hold only letters, digits, "
           "'.', '_' and '-'"},
      {node("  {}\n", "kube-node-0", "  labels:\n    zone: us west\n"),
       N + "metadata.labels.zone: label value \"us west\" is not valid: at most 63 letters, digits, '.', '_' "
           "or '-', starting and ending with a letter or digit"},
      {node("  {}\n", "kube-node-0", "  labels:\n    rack: [0]\n"),
       N + "metadata.labels.rack: expected a string, got a list"},
      {node("  bgp:\n    ipv4Address: 10.0.0.10\n"),
       N + "spec.bgp.ipv4Address: \"10.0.0.10\" needs a prefix length (address/length, e.g. 10.0.0.10/24)"},
      {node("  bgp:\n    ipv4Address: 10.0.0.300/24\n"), N + "spec.bgp.ipv4Address: \"10.0.0.300\" is not an IP address"},
      {node("  bgp:\n    ipv4Address: 10.0.0.10/40\n"),
       N + "spec.bgp.ipv4Address: \"10.0.0.10/40\": prefix length 40 exceeds 32 for IPv4"},
      {node("  bgp:\n    ipv4Address: fd00::10/64\n"), N + "spec.bgp.ipv4Address: fd00::10 is not an IPv4 address"},
      {node("  bgp:\n    ipv6Address: 10.0.0.10/24\n"), N + "spec.bgp.ipv6Address: 10.0.0.10 is not an IPv6 address"},
      {node("  bgp:\n    ipv6Address: fd00::10/64\n"), ""},
      {node("  bgp:\n    ipv4IPIPTunnelAddr: fd00::1\n"),
       N + "spec.bgp.ipv4IPIPTunnelAddr: fd00::1 is not an IPv4 address"},
      {node("  bgp:\n    routeReflectorClusterID: 224.0.0.1\n"), ""},
      {node("  bgp:\n    routeReflectorClusterID: cluster-1\n"),
       N + "spec.bgp.routeReflectorClusterID: \"cluster-1\" is not an IPv4 address (a cluster ID is written "
           "like one, e.g. 224.0.0.1)"},
      {node("  ipv4VXLANTunnelAddr: 10.244.0.1\n  vxlanTunnelMACAddr: 66:d0:15:2b:7a:01\n"), ""},
      {node("  ipv4VXLANTunnelAddr: vtep\n"), N + "spec.ipv4VXLANTunnelAddr: \"vtep\" is not an IP address"},
      {node("  ipv4VXLANTunnelAddr: fd00::1\n"), N + "spec.ipv4VXLANTunnelAddr: fd00::1 is not an IPv4 address"},
      {node("  ipv6VXLANTunnelAddr: 10.0.0.1\n"), N + "spec.ipv6VXLANTunnelAddr: 10.0.0.1 is not an IPv6 address"},
      {node("  vxlanTunnelMACAddr: 66:d0:15:2b:7a\n"),
       N + "spec.vxlanTunnelMACAddr: \"66:d0:15:2b:7a\" is not a MAC address (expected six hex pairs separated "
           "by ':', e.g. 66:d0:15:2b:7a:01)"},
      {node("  vxlanTunnelMACAddrV6: 66-d0-15-2b-7a-01\n"),
       N + "spec.vxlanTunnelMACAddrV6: \"66-d0-15-2b-7a-01\" is not a MAC address (expected six hex pairs "
           "separated by ':', e.g. 66:d0:15:2b:7a:01)"},
      {node("  vxlanTunnelMACAddr: 66:D0:15:2B:7A:0G\n"),
       N + "spec.vxlanTunnelMACAddr: \"66:D0:15:2B:7A:0G\" is not a MAC address (expected six hex pairs "
           "separated by ':', e.g. 66:d0:15:2b:7a:01)"},
      {node("  addresses:\n  - address: 10.0.0.10/24\n    type: CalicoNodeIP\n  - address: 10.0.0.10\n    "
            "type: InternalIP\n"),
       ""},
      {node("  addresses:\n  - address: 10.0.0.10/24\n  - address: ten\n"),
       N + "spec.addresses[1].address: \"ten\" is not an IP address (with or without a prefix length)"},
      {node("  addresses:\n  - address: 10.0.0.10\n    type: Internal\n"),
       N + "spec.addresses[0].type: \"Internal\" is not one of CalicoNodeIP, InternalIP, ExternalIP"},
      {node("  addresses:\n  - 10.0.0.10\n"),
       N + "spec.addresses[0]: expected a mapping with address and type, got the string \"10.0.0.10\""},
      {node("  bgp:\n    ASNumber: 65002\n"), N + "unknown field spec.bgp.ASNumber (did you mean spec.bgp.asNumber?)"},
      {node("  bgp: 10.0.0.10/24\n"), N + "spec.bgp: expected a mapping, got the string \"10.0.0.10/24\""},
  });
}

TEST(NodeRules, AsNumbers) {
  const std::string N = "document 1: Node kube-node-0: spec.bgp.asNumber: ";
  check({
      {node("  bgp:\n    asNumber: 1\n"), ""},
      {node("  bgp:\n    asNumber: 4294967295\n"), ""},
      {node("  bgp:\n    asNumber: \"65002\"\n"), ""},
      {node("  bgp:\n    asNumber: 1.10\n"), ""},
      {node("  bgp:\n    asNumber: 0\n"), N + "0 is out of range (1 to 4294967295)"},
      {node("  bgp:\n    asNumber: 23456\n"), N + "23456 is AS_TRANS, reserved to stand in for 4-octet AS numbers (RFC 6793)"},
      {node("  bgp:\n    asNumber: 4294967296\n"), N + "4294967296 is out of range (1 to 4294967295)"},
      {node("  bgp:\n    asNumber: -5\n"), N + "-5 is out of range (1 to 4294967295)"},
      {node("  bgp:\n    asNumber: 1.70000\n"),
       N + "\"1.70000\" is not an AS number (expected 1 to 4294967295, or the asdot form such as 1.10)"},
      {node("  bgp:\n    asNumber: AS65002\n"),
       N + "\"AS65002\" is not an AS number (expected 1 to 4294967295, or the asdot form such as 1.10)"},
      {node("  bgp:\n    asNumber: true\n"), N + "expected an AS number, got the boolean true"},
  });
  auto asdot = parse_resources_yaml(node("  bgp:\n    asNumber: 1.10\n"));
  ASSERT_TRUE(asdot.ok());
  EXPECT_EQ(std::get<Node>(asdot->at(0)).as_number, 65546u);  // RFC 5396: 1 * 65536 + 10
}

TEST(BGPPeerRules, PeerAddressAsnNodeAndSelector) {
  const std::string B = "document 1: BGPPeer tor-0: ";
  check({
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n"), ""},
      {peer("  peerIP: 10.0.0.1:1179\n  asNumber: 65001\n"), ""},
      {peer("  peerIP: \"[fd00::1]:1179\"\n  asNumber: 65001\n"), ""},
      {peer("  peerIP: fd00::1\n  asNumber: 65001\n  node: kube-node-0\n  password: s3cret\n"), ""},
      {peer("  asNumber: 65001\n"), B + "spec.peerIP: required (or spec.peerSelector)"},
      {peer("  peerIP: 10.0.0.300\n  asNumber: 65001\n"), B + "spec.peerIP: \"10.0.0.300\" is not an IP address"},
      {peer("  peerIP: 10.0.0.1:99999\n  asNumber: 65001\n"),
       B + "spec.peerIP: \"10.0.0.1:99999\": port \"99999\" is not a number from 1 to 65535"},
      {peer("  peerIP: \"10.0.0.1:\"\n  asNumber: 65001\n"),
       B + "spec.peerIP: \"10.0.0.1:\": port \"\" is not a number from 1 to 65535"},
      {peer("  peerIP: 10.0.0.1:0\n  asNumber: 65001\n"), B + "spec.peerIP: port 0 is out of range (1 to 65535)"},
      {peer("  peerIP: \"[10.0.0.1]:179\"\n  asNumber: 65001\n"),
       B + "spec.peerIP: \"[10.0.0.1]:179\": brackets are for IPv6 addresses (write 10.0.0.1:179)"},
      {peer("  peerIP: \"[fd00::1]\"\n  asNumber: 65001\n"),
       B + "spec.peerIP: \"[fd00::1]\" is not an address or [IPv6]:port"},
      {peer("  peerIP: 0.0.0.0\n  asNumber: 65001\n"), B + "spec.peerIP: 0.0.0.0 is not a usable peer address"},
      {peer("  peerIP: 10.0.0.1\n"), B + "spec.asNumber: required (1 to 4294967295)"},
      // What the speaker would refuse (issue 16): AS_TRANS, a password the kernel cannot take.
      {peer("  peerIP: 10.0.0.1\n  asNumber: 23456\n"),
       B + "spec.asNumber: 23456 is AS_TRANS, reserved to stand in for 4-octet AS numbers (RFC 6793)"},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  password: " + std::string(80, 'x') + "\n"), ""},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  password: " + std::string(81, 'x') + "\n"),
       B + "spec.password: 81 octets; a TCP-MD5 key holds at most 80 (Linux TCP_MD5SIG_MAXKEYLEN)"},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 4294967296\n"),
       B + "spec.asNumber: 4294967296 is out of range (1 to 4294967295)"},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  node: kube_node 0\n"),
       B + "spec.node: \"kube_node 0\" is not a valid node name"},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  nodeSelector: rack == '0'\n"), ""},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  nodeSelector: rack = '0'\n"),
       B + "spec.nodeSelector: selector \"rack = '0'\": at position 5: expected == (not =) after label key rack"},
      // Calico's validateBGPPeerSpec: "Node field must be empty when NodeSelector is specified".
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  node: kube-node-0\n  nodeSelector: all()\n"),
       B + "spec.node: must be empty when spec.nodeSelector is set (a peer is for one node or for the nodes "
           "the selector picks)"},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  password:\n    secretKeyRef:\n      name: bgp-secrets\n"
            "      key: rr-password\n"),
       B + "spec.password: secretKeyRef needs the Kubernetes API, which blockd does not use; give the password as "
           "a plain string, or in a file with bgp.peers[].passwordFile in the agent config"},
      // Calico's route-reflector recipe: peerSelector takes the address and AS from the Nodes.
      {peer("  nodeSelector: \"!has(route-reflector)\"\n  peerSelector: route-reflector == 'true'\n"), ""},
      {peer("  peerIP: 10.0.0.1\n  peerSelector: all()\n"), B + "spec.peerIP: must be empty when spec.peerSelector is set"},
      {peer("  asNumber: 65001\n  peerSelector: all()\n"),
       B + "spec.asNumber: must be empty when spec.peerSelector is set (the selected Nodes' AS numbers apply)"},
      {peer("  peerSelector: rr = 'x'\n"),
       B + "spec.peerSelector: selector \"rr = 'x'\": at position 3: expected == (not =) after label key rr"},
      // spec.bfd: MetalLB's BFDProfile names and limits.
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  bfd: {}\n"), ""},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  bfd:\n    receiveInterval: 100\n    transmitInterval: 10\n"
            "    detectMultiplier: 255\n"),
       ""},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  bfd:\n    receiveInterval: 9\n"),
       B + "spec.bfd: receiveInterval 9 ms is out of range: must be 10..60000 ms"},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  bfd:\n    transmitInterval: 60001\n"),
       B + "spec.bfd: transmitInterval 60001 ms is out of range: must be 10..60000 ms"},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  bfd:\n    detectMultiplier: 1\n"),
       B + "spec.bfd: detectMultiplier 1 is out of range: must be 2..255"},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  bfd:\n    echoInterval: 50\n"),
       B + "unknown field spec.bfd.echoInterval: blockd does not implement it, so nothing was stored"},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  bfd: true\n"), B + "spec.bfd: expected a mapping, got the boolean true"},
      // Calico's spec.sourceAddress.
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  sourceAddress: UseNodeIP\n"), ""},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  sourceAddress: None\n"), ""},
      {peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  sourceAddress: useNodeIP\n"),
       B + "spec.sourceAddress: \"useNodeIP\" is neither UseNodeIP nor None"},
      {"apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: tor-0\n",
       B + "spec: required (a BGPPeer needs spec.peerIP and spec.asNumber)"},
  });
  auto v6 = parse_resources_yaml(peer("  peerIP: \"[fd00::1]:1179\"\n  asNumber: 65001\n"));
  ASSERT_TRUE(v6.ok());
  const auto& p = std::get<BGPPeer>(v6->at(0));
  EXPECT_EQ(p.peer_ip, Address::parse("fd00::1").value());
  EXPECT_EQ(p.port, std::optional<std::uint16_t>(1179));
  EXPECT_FALSE(p.bfd);
  auto with_bfd = parse_resources_yaml(peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  bfd:\n    receiveInterval: 100\n"));
  ASSERT_TRUE(with_bfd.ok());
  EXPECT_EQ(std::get<BGPPeer>(with_bfd->at(0)).bfd, (BfdProfile{100, 300, 3}));
  EXPECT_EQ(std::get<BGPPeer>(with_bfd->at(0)).source_address, SourceAddress::UseNodeIP);
  auto none = parse_resources_yaml(peer("  peerIP: 10.0.0.1\n  asNumber: 65001\n  sourceAddress: None\n"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(std::get<BGPPeer>(none->at(0)).source_address, SourceAddress::None);
  // Written back only when not the default, and read back the same.
  const std::string yaml = resource_to_yaml(none->at(0));
  EXPECT_NE(yaml.find("sourceAddress: None"), std::string::npos) << yaml;
  EXPECT_EQ(parse_resources_yaml(yaml).value().at(0), none->at(0));
}

TEST(BGPPeerRules, APeerForOneNodeNeedsAnAddressOfItsFamilyThere) {
  BGPPeer p;
  p.name = "tor-v6";
  p.peer_ip = Address::parse("fd00::1").value();
  p.as_number = 65001;
  p.node = "kube-node-0";
  Node n;
  n.name = "kube-node-0";
  n.ipv4_address = InterfaceAddress::parse("10.0.0.10/24").value();
  EXPECT_EQ(validate_peer_for_node(p, n).error().message,
            "BGPPeer tor-v6: spec.peerIP: fd00::1 is IPv6 but node kube-node-0 has no spec.bgp.ipv6Address to peer from");
  n.ipv6_address = InterfaceAddress::parse("fd00::10/64").value();
  EXPECT_TRUE(validate_peer_for_node(p, n).ok());
  p.peer_ip = Address::parse("10.0.0.1").value();
  n.ipv4_address.reset();
  EXPECT_FALSE(validate_peer_for_node(p, n).ok());
}

TEST(BGPPeerRules, TheStoreRefusesAPeerItsNodeCannotPeerWith) {
  MemoryStore store;
  ResourceStore resources(store);
  Node n;
  n.name = "kube-node-0";
  n.ipv4_address = InterfaceAddress::parse("10.0.0.10/24").value();
  ASSERT_TRUE(resources.write(n, WriteMode::Create).ok());
  BGPPeer p;
  p.name = "tor-v6";
  p.peer_ip = Address::parse("fd00::1").value();
  p.as_number = 65001;
  p.node = "kube-node-0";
  auto s = resources.write(p, WriteMode::Create);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("spec.peerIP: fd00::1 is IPv6 but node kube-node-0 has no spec.bgp.ipv6Address"),
            std::string::npos);
  p.node = "kube-node-9";  // not registered yet: its agent decides when it starts
  EXPECT_TRUE(resources.write(p, WriteMode::Create).ok());
}

TEST(BGPConfigurationRules, PortAsnMeshAndSeverity) {
  const std::string C = "document 1: BGPConfiguration default: ";
  check({
      {bgpconfig("  asNumber: 64512\n  listenPort: 179\n  nodeToNodeMeshEnabled: false\n  logSeverityScreen: Info\n"),
       ""},
      {bgpconfig("  listenPort: 70000\n"), C + "spec.listenPort: 70000 is out of range (1 to 65535)"},
      {bgpconfig("  listenPort: 0\n"), C + "spec.listenPort: 0 is out of range (1 to 65535)"},
      {bgpconfig("  asNumber: 0\n"), C + "spec.asNumber: 0 is out of range (1 to 4294967295)"},
      {bgpconfig("  asNumber: 23456\n"),
       C + "spec.asNumber: 23456 is AS_TRANS, reserved to stand in for 4-octet AS numbers (RFC 6793)"},
      {bgpconfig("  nodeToNodeMeshEnabled: yes\n"),
       C + "spec.nodeToNodeMeshEnabled: expected true or false, got the string \"yes\""},
      {bgpconfig("  logSeverityScreen: Verbose\n"),
       C + "spec.logSeverityScreen: \"Verbose\" is not one of Debug, Info, Warning, Error, Fatal"},
      {bgpconfig("  serviceClusterIPs: [{cidr: 10.96.0.0}]\n"),
       C + "spec.serviceClusterIPs[0].cidr: \"10.96.0.0\" is not a CIDR (expected address/length)"},
      {bgpconfig("  bindMode: Any\n"), C + "spec.bindMode: \"Any\" is neither None nor NodeIP"},
      {bgpconfig("  ignoredInterfaces: [eth1]\n"),
       C + "unknown field spec.ignoredInterfaces: blockd does not implement it, so nothing was stored"},
      // Calico: asNumber and nodeToNodeMeshEnabled are valid on the default configuration only.
      {node_config("  listenPort: 1179\n  logSeverityScreen: Debug\n"), ""},
      {node_config("  asNumber: 65001\n"),
       "document 1: BGPConfiguration node.n1: spec.asNumber: only valid on the BGPConfiguration named default"},
      {node_config("  serviceClusterIPs: [{cidr: 10.96.0.0/12}]\n"),
       "document 1: BGPConfiguration node.n1: spec.serviceClusterIPs: only valid on the BGPConfiguration named default"},
      {node_config("  prefixAdvertisements: [{cidr: 10.0.0.0/8, communities: [65000:1]}]\n"),
       "document 1: BGPConfiguration node.n1: spec.prefixAdvertisements: only valid on the BGPConfiguration named "
       "default"},
      {node_config("  nodeToNodeMeshEnabled: true\n"),
       "document 1: BGPConfiguration node.n1: spec.nodeToNodeMeshEnabled: only valid on the BGPConfiguration named "
       "default"},
  });
}

TEST(ValidateDirect, FillsPoolDefaultsAndNamesTheResource) {
  IPPool p;
  p.name = "v6-pool";
  p.cidr = Prefix::parse("fd00:10::/64").value();
  p.node_selector = "  ";
  p.allowed_uses.clear();
  Resource r = p;
  ASSERT_TRUE(validate(r).ok());
  const auto& filled = std::get<IPPool>(r);
  EXPECT_EQ(filled.block_size, 122u);
  EXPECT_EQ(filled.node_selector, "all()");
  EXPECT_EQ(filled.allowed_uses, (std::vector<std::string>{"Workload", "Tunnel"}));

  BGPPeer no_asn;
  no_asn.name = "tor";
  no_asn.peer_ip = Address::parse("10.0.0.1").value();
  Resource bad_peer = no_asn;
  auto s = validate(bad_peer);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "BGPPeer tor: spec.asNumber: required (1 to 4294967295)");

  Resource unnamed = Node{};
  EXPECT_EQ(validate(unnamed).error().message, "Node: metadata.name: required");
}

TEST(ResourceNames, Rule) {
  for (const char* ok : {"a", "my.ippool-1", "rack_0", "A9", "default", "node.kube-node-0"}) {
    EXPECT_TRUE(valid_resource_name(ok)) << ok;
  }
  for (const char* bad : {"", "-a", "a-", ".a", "a.", "a b", "a/b", "a:b", "\xE2\x80\x98"}) {
    EXPECT_FALSE(valid_resource_name(bad)) << bad;
  }
}

}  // namespace
}  // namespace blockd::ipam
