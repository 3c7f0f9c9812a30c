#include "ipam/resources/resource_codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ipam/resources/validation.hpp"

namespace blockd::ipam {
namespace {

using nlohmann::json;

// The YAML of reference/assign-ip-addresses-topology.md, byte for byte (its first example is
// indented by three spaces).
const char* kZoneWestPool = R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
   name: zone-west-ippool
spec:
   cidr: 192.168.0.0/24
   ipipMode: Always
   natOutgoing: true
   nodeSelector: zone == "west"
)";

const char* kRack0Pool = R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: rack-0-ippool
spec:
  cidr: 192.168.0.0/24
  ipipMode: Always
  natOutgoing: true
  nodeSelector: rack == "0"
)";

const char* kRack1Pool = R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: rack-1-ippool
spec:
  cidr: 192.168.1.0/24
  ipipMode: Always
  natOutgoing: true
  nodeSelector: rack == "1"
)";

IPPool only_pool(const char* yaml) {
  auto r = parse_resources_yaml(yaml);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok() || r->size() != 1) return {};
  return std::get<IPPool>(r->at(0));
}

TEST(TutorialYaml, LoadsUnchanged) {
  const IPPool west = only_pool(kZoneWestPool);
  EXPECT_EQ(west.name, "zone-west-ippool");
  EXPECT_EQ(west.cidr.str(), "192.168.0.0/24");
  EXPECT_EQ(west.ipip_mode, EncapMode::Always);
  EXPECT_EQ(west.vxlan_mode, EncapMode::Never);
  EXPECT_TRUE(west.nat_outgoing);
  EXPECT_FALSE(west.disabled);
  EXPECT_EQ(west.node_selector, "zone == \"west\"");
  EXPECT_EQ(west.block_size, 26u);

  const IPPool rack0 = only_pool(kRack0Pool);
  EXPECT_EQ(rack0.name, "rack-0-ippool");
  EXPECT_EQ(rack0.cidr.str(), "192.168.0.0/24");
  EXPECT_EQ(rack0.node_selector, "rack == \"0\"");
  const IPPool rack1 = only_pool(kRack1Pool);
  EXPECT_EQ(rack1.name, "rack-1-ippool");
  EXPECT_EQ(rack1.cidr.str(), "192.168.1.0/24");
  EXPECT_EQ(rack1.node_selector, "rack == \"1\"");
  EXPECT_EQ(rack1.ipip_mode, EncapMode::Always);
  EXPECT_TRUE(rack1.nat_outgoing);
}

TEST(ReferenceSample, LoadsAsCalicoDocumentsIt) {
  // reference/ippool-resource-reference.txt "Sample YAML", with the metadata/spec lines and the cidr
  // that Calico's page has and the text extraction lost.
  const IPPool p = only_pool(R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: my.ippool-1
spec:
  cidr: 10.1.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
  disabled: false
  nodeSelector: all()
)");
  EXPECT_EQ(p.name, "my.ippool-1");
  EXPECT_EQ(p.ipip_mode, EncapMode::CrossSubnet);
  EXPECT_EQ(p.node_selector, "all()");
  EXPECT_EQ(p.block_size, 26u);
  // As extracted (no metadata/spec lines) it is not YAML, and the message says where.
  auto broken = parse_resources_yaml(
      "apiVersion: projectcalico.org/v3\nkind: IPPool\n  name: my.ippool-1\n  ipipMode: CrossSubnet\n");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message, "YAML syntax error at line 3, column 7: illegal map value");
}

TEST(TutorialYaml, LoadsWithWindowsLineEndingsAndAByteOrderMark) {
  std::string crlf;
  for (char c : std::string(kRack0Pool) + "---\n" + kRack1Pool) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto r = parse_resources_yaml("\xEF\xBB\xBF" + crlf);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(std::get<IPPool>(r->at(0)), only_pool(kRack0Pool));
  EXPECT_EQ(std::get<IPPool>(r->at(1)), only_pool(kRack1Pool));
}

TEST(TutorialYaml, BothRackPoolsInOneStreamAndTheyDoNotOverlap) {
  auto r = parse_resources_yaml(std::string(kRack0Pool) + "---\n" + kRack1Pool);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const auto& p0 = std::get<IPPool>(r->at(0));
  const auto& p1 = std::get<IPPool>(r->at(1));
  EXPECT_TRUE(validate_pool_change(p1, {p0}, nullptr).ok());
  // The default pool the tutorial deletes first would overlap both.
  IPPool def = p0;
  def.name = "default-ipv4-ippool";
  def.cidr = Prefix::parse("192.168.0.0/16").value();
  EXPECT_EQ(validate_pool_change(def, {p0, p1}, nullptr).error().message,
            "IPPool default-ipv4-ippool: spec.cidr: 192.168.0.0/16 overlaps IPPool rack-0-ippool (192.168.0.0/24)");
}

TEST(TutorialYaml, JsonIsCalicoShape) {
  const IPPool rack0 = only_pool(kRack0Pool);
  const json expected = json::parse(R"({
    "apiVersion": "projectcalico.org/v3",
    "kind": "IPPool",
    "metadata": {"name": "rack-0-ippool"},
    "spec": {
      "allowedUses": ["Workload", "Tunnel"],
      "assignmentMode": "Automatic",
      "blockSize": 26,
      "cidr": "192.168.0.0/24",
      "disabled": false,
      "ipipMode": "Always",
      "natOutgoing": true,
      "nodeSelector": "rack == \"0\"",
      "vxlanMode": "Never"
    }
  })");
  EXPECT_EQ(resource_to_json(rack0), expected);
}

TEST(TutorialYaml, YamlOutputIsCalicoShape) {
  const IPPool rack0 = only_pool(kRack0Pool);
  EXPECT_EQ(resource_to_yaml(rack0),
            "apiVersion: projectcalico.org/v3\n"
            "kind: IPPool\n"
            "metadata:\n"
            "  name: rack-0-ippool\n"
            "spec:\n"
            "  allowedUses:\n"
            "    - Workload\n"
            "    - Tunnel\n"
            "  assignmentMode: Automatic\n"
            "  blockSize: 26\n"
            "  cidr: 192.168.0.0/24\n"
            "  disabled: false\n"
            "  ipipMode: Always\n"
            "  natOutgoing: true\n"
            "  nodeSelector: rack == \"0\"\n"
            "  vxlanMode: Never\n");
}

Resource must_parse_one(const std::string& yaml) {
  auto r = parse_resources_yaml(yaml);
  EXPECT_TRUE(r.ok()) << yaml << "\n -> " << (r.ok() ? "" : r.error().message);
  if (!r.ok() || r->size() != 1) return IPPool{};
  return r->at(0);
}

std::vector<Resource> round_trip_samples() {
  IPPool v6;
  v6.name = "v6.pool_1";
  v6.cidr = Prefix::parse("fd00:10::/64").value();
  v6.block_size = 120;
  v6.vxlan_mode = EncapMode::CrossSubnet;
  v6.disabled = true;
  v6.node_selector = "!has(edge) && (rack in {'0', \"1\"} || zone not in {})";
  v6.allowed_uses = {"Tunnel"};
  v6.strict_affinity = true;
  v6.disable_bgp_export = true;
  v6.labels = {{"projectcalico.org/team", "edge"}};
  v6.annotations = {{"Example.com/Owner", "ops: team \"edge\""}, {"note", "true"}};
  v6.assignment_mode = AssignmentMode::Manual;
  v6.namespace_selector = "all()";

  IPPool v4;
  v4.name = "rack-0-ippool";
  v4.cidr = Prefix::parse("192.168.0.0/24").value();
  v4.block_size = 28;
  v4.ipip_mode = EncapMode::CrossSubnet;
  v4.nat_outgoing = true;
  v4.node_selector = "rack == \"0\"";

  Node n;
  n.name = "kube-node-0";
  n.labels = {{"rack", "0"}, {"enabled", "true"}, {"none", "null"}, {"empty", ""}, {"kubernetes.io/hostname", "kube-node-0"},
              {"version", "1.10"}, {"octal", "0o17"}, {"hex", "0x1f"}};
  n.ipv4_address = InterfaceAddress::parse("10.0.0.10/24").value();
  n.ipv6_address = InterfaceAddress::parse("fd00::10/64").value();
  n.as_number = 4200000000u;
  n.ipv4_ipip_tunnel_addr = Address::parse("192.168.0.1").value();
  n.route_reflector_cluster_id = "224.0.0.1";
  n.ipv4_vxlan_tunnel_addr = Address::parse("192.168.0.2").value();
  n.vxlan_tunnel_mac = "66:d0:15:2b:7a:01";
  n.ipv6_vxlan_tunnel_addr = Address::parse("fd00:10::1").value();
  n.vxlan_tunnel_mac_v6 = "66:D0:15:2B:7A:02";
  n.addresses = {{"10.0.0.10/24", "CalicoNodeIP"}, {"10.0.0.10", "InternalIP"}, {"fd00::10", ""}};

  Node bare;
  bare.name = "kube-node-1";

  BGPPeer p4;
  p4.name = "tor-0";
  p4.peer_ip = Address::parse("10.0.0.1").value();
  p4.port = 1179;
  p4.as_number = 65001;
  p4.node_selector = "rack == '0'";
  p4.password = "123456";

  BGPPeer p6;
  p6.name = "tor-0-v6";
  p6.peer_ip = Address::parse("fd00::1").value();
  p6.port = 179;
  p6.as_number = 65001;
  p6.node = "kube-node-0";
  p6.password = "true";
  p6.bfd = BfdProfile{100, 200, 5};

  BGPPeer plain;
  plain.name = "tor-1";
  plain.peer_ip = Address::parse("fd00::2").value();
  plain.as_number = 1;

  BGPPeer to_reflectors;  // Calico's route-reflector recipe: no peerIP, no asNumber
  to_reflectors.name = "peer-with-route-reflectors";
  to_reflectors.node_selector = "!has(route-reflector)";
  to_reflectors.peer_selector = "route-reflector == 'true'";

  BGPConfiguration c;
  c.name = "default";
  c.as_number = 64512;
  c.listen_port = 1179;
  c.node_to_node_mesh_enabled = false;
  c.log_severity_screen = "Warning";

  BGPConfiguration empty;
  empty.name = "node.kube-node-0";

  return {v6, v4, n, bare, p4, p6, plain, to_reflectors, c, empty};
}

TEST(RoundTrip, YamlBackToTheSameResource) {
  for (Resource r : round_trip_samples()) {
    ASSERT_TRUE(validate(r).ok()) << name_of(r) << ": " << validate(r).error().message;
    const std::string yaml = resource_to_yaml(r);
    EXPECT_EQ(must_parse_one(yaml), r) << yaml;
  }
}

TEST(RoundTrip, JsonBackToTheSameResource) {
  for (Resource r : round_trip_samples()) {
    ASSERT_TRUE(validate(r).ok());
    const json doc = resource_to_json(r);
    auto back = resource_from_json(json::parse(doc.dump()));
    ASSERT_TRUE(back.ok()) << doc.dump() << ": " << back.error().message;
    EXPECT_EQ(*back, r) << doc.dump();
  }
}

TEST(RoundTrip, AllSamplesInOneStream) {
  std::string stream;
  const auto samples = round_trip_samples();
  for (const auto& r : samples) stream += "---\n" + resource_to_yaml(r);
  auto back = parse_resources_yaml(stream);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    Resource expected = samples[i];
    ASSERT_TRUE(validate(expected).ok());
    EXPECT_EQ(back->at(i), expected) << i;
  }
}

TEST(RoundTrip, StringsThatLookLikeYamlSyntaxSurvive) {
  const std::vector<std::string> tricky = {
      " spaced ", "#hash", "a: b", "- x", "'quoted'", "\"dq\"", "multi\nline", "@at", "`tick", "{x}", "[y]",
      "*star", "&amp", "!bang", "%pct", "|pipe", ">gt", "?q", "yes", "No", "~", "1e3", "0x10", "0o17", ".5",
      "+1", "-1", "-", "null", "NULL", "True", "p\u00e4ssw\u00f6rd", "tab\there", "trailing\\", "---", "...",
      "a #b", "12:30", "2026-11-23", ".inf", "1_000", ":colon"};
  for (const auto& pw : tricky) {
    BGPPeer p;
    p.name = "tor";
    p.peer_ip = Address::parse("10.0.0.1").value();
    p.as_number = 65001;
    p.password = pw;
    const Resource r = p;
    const std::string yaml = resource_to_yaml(r);
    EXPECT_EQ(must_parse_one(yaml), r) << "password [" << pw << "]\n" << yaml;
  }
}

TEST(YamlTyping, LabelValuesAreStringsWhateverTheirLook) {
  auto r = must_parse_one(
      "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    rack: 0\n"
      "    ssd: true\n    quoted: \"1\"\n    octal: 007\n");
  const auto& n = std::get<Node>(r);
  EXPECT_EQ(n.labels, (Labels{{"rack", "0"}, {"ssd", "true"}, {"quoted", "1"}, {"octal", "007"}}));
}

TEST(YamlTyping, JsonLabelValuesGivenAsNumbersBecomeText) {
  auto r = resource_from_json(json::parse(
      R"({"apiVersion":"projectcalico.org/v3","kind":"Node","metadata":{"name":"n1","labels":{"rack":0,"ssd":true}}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(std::get<Node>(*r).labels, (Labels{{"rack", "0"}, {"ssd", "true"}}));
}

TEST(YamlTyping, QuotedScalarsStayStrings) {
  auto r = parse_resources_yaml(
      "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: 10.0.0.0/16\n"
      "  natOutgoing: 'true'\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "document 1: IPPool p: spec.natOutgoing: expected true or false, got the string \"true\"");
}

TEST(YamlTyping, CoreSchemaIntegersAndBooleans) {
  // YAML 1.2 core schema: True/TRUE are booleans, 0x1A and 0o32 integers, yes/no strings.
  auto r = must_parse_one(
      "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: 10.0.0.0/16\n"
      "  natOutgoing: TRUE\n  disabled: False\n  blockSize: 0x1A\n");
  const auto& p = std::get<IPPool>(r);
  EXPECT_TRUE(p.nat_outgoing);
  EXPECT_FALSE(p.disabled);
  EXPECT_EQ(p.block_size, 26u);
  const IPPool q = std::get<IPPool>(must_parse_one(
      "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: 10.0.0.0/16\n"
      "  blockSize: 0o34\n"));
  EXPECT_EQ(q.block_size, 28u);
}

TEST(YamlStreams, ManyDocumentsEmptyOnesAndLists) {
  auto r = parse_resources_yaml(std::string("---\n") + kRack0Pool + "---\n---\n# only a comment\n---\n" + kRack1Pool +
                                "---\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(name_of(r->at(1)), "rack-1-ippool");

  // "..." ends a document; "--- " may carry content on its own line; empty documents are not counted.
  auto marked = parse_resources_yaml(std::string(kRack0Pool) + "...\n--- # next\n---\n" + kRack1Pool + "...\n" +
                                     "--- {apiVersion: projectcalico.org/v3, kind: IPPool, metadata: {name: c}, spec: "
                                     "{cidr: 10.0.0.0/33}}\n");
  ASSERT_FALSE(marked.ok());
  EXPECT_EQ(marked.error().message,
            "document 3: IPPool c: spec.cidr: \"10.0.0.0/33\": prefix length 33 exceeds 32 for IPv4");

  // As `calicoctl get ippool -o yaml` writes a list (items inherit apiVersion and kind).
  auto list = parse_resources_yaml(R"(apiVersion: projectcalico.org/v3
kind: IPPoolList
metadata:
  resourceVersion: "1234"
items:
- metadata:
    name: rack-0-ippool
    resourceVersion: "1200"
    uid: 7c1d5a57-2b0f-4a55-9c5a-3e1e8f1d2c11
    creationTimestamp: "2026-11-23T10:00:00Z"
  spec:
    cidr: 192.168.0.0/24
    blockSize: 26
    ipipMode: Always
    natOutgoing: true
    nodeSelector: rack == "0"
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata:
    name: rack-1-ippool
  spec:
    cidr: 192.168.1.0/24
)");
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(std::get<IPPool>(list->at(0)).node_selector, "rack == \"0\"");
  EXPECT_EQ(name_of(list->at(1)), "rack-1-ippool");

  auto bad_item = parse_resources_yaml(
      "apiVersion: projectcalico.org/v3\nkind: List\nitems:\n- kind: IPPool\n  metadata: {name: a}\n  spec: {cidr: "
      "10.0.0.0/16}\n- kind: IPPool\n  metadata: {name: b}\n  spec: {cidr: 10.0.0.0/40}\n");
  ASSERT_FALSE(bad_item.ok());
  EXPECT_EQ(bad_item.error().message,
            "document 1 item 2: IPPool b: spec.cidr: \"10.0.0.0/40\": prefix length 40 exceeds 32 for IPv4");
}

TEST(YamlErrors, DocumentShapeAndHeader) {
  using namespace std::string_literals;
  struct Case {
    std::string yaml;
    std::string message;
  };
  const std::string head = "apiVersion: projectcalico.org/v3\nkind: IPPool\n";
  const std::vector<Case> cases = {
      {"kind: IPPool\nmetadata: {name: p}\n", "document 1: apiVersion: required (projectcalico.org/v3)"},
      {"apiVersion: v1\nkind: IPPool\nmetadata: {name: p}\n",
       "document 1: apiVersion: \"v1\" is not supported (expected projectcalico.org/v3 or blockd.io/v1)"},
      {"apiVersion: projectcalico.org/v3\nmetadata: {name: p}\n",
       "document 1: kind: required (one of IPPool, Node, BGPPeer, BGPConfiguration, BGPFilter, IPReservation or IPAMConfiguration)"},
      {"apiVersion: projectcalico.org/v3\nkind: ippool\nmetadata: {name: p}\n",
       "document 1: kind: \"ippool\" is not supported (expected IPPool, Node, BGPPeer, BGPConfiguration, BGPFilter, IPReservation or IPAMConfiguration) (did "
       "you mean IPPool?)"},
      {"apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: p}\n",
       "document 1: kind: \"NetworkPolicy\" is not supported (expected IPPool, Node, BGPPeer, BGPConfiguration, BGPFilter, IPReservation or IPAMConfiguration)"},
      {head + "spec: {cidr: 10.0.0.0/16}\n", "document 1: IPPool: metadata.name: required"},
      {head + "metadata: {}\nspec: {cidr: 10.0.0.0/16}\n", "document 1: IPPool: metadata.name: required"},
      {head + "metadata: p\n", "document 1: IPPool: metadata: expected a mapping, got the string \"p\""},
      {head + "metadata: {name: 7}\n", "document 1: IPPool: metadata.name: expected a string, got the number 7"},
      {head + "metadata: {name: p, namespace: default}\nspec: {cidr: 10.0.0.0/16}\n",
       "document 1: IPPool p: unknown field metadata.namespace: blockd does not implement it, so nothing was stored"},
      {head + "metadata: {name: p}\n", "document 1: IPPool p: spec: required (an IPPool needs at least spec.cidr)"},
      {head + "metadata: {name: p}\nspec: [cidr]\n", "document 1: IPPool p: spec: expected a mapping, got a list"},
      {"just words\n", "document 1: expected a mapping (a resource with apiVersion, kind, metadata and spec), got "
                       "the string \"just words\""},
      {"- a\n- b\n", "document 1: expected a mapping (a resource with apiVersion, kind, metadata and spec), got a "
                     "list"},
      {std::string(kRack0Pool) + "---\n" + head + "metadata: {name: rack-1}\nspec: {cidr: 10.0.0.0/16, blockSize: 33}\n",
       "document 2: IPPool rack-1: spec.blockSize: 33 is out of range (20 to 32 for IPv4)"},
      {head + "metadata: {name: p}\nspec:\n  cidr: 10.0.0.0/16\n  cidr: 10.1.0.0/16\n",
       "document 1: duplicate field spec.cidr (line 6)"},
      {head + "metadata: {name: p}\nspec:\n  nodeSelector: \"rack == '\xF6'\"\n",
       "YAML: line 5, column 27: the text is not valid UTF-8"},
      {head + "metadata: {name: p}\nspec:\n  \xC0\xAF: x\n", "YAML: line 5, column 3: the text is not valid UTF-8"},
      {head + "metadata: {name: p}\nspec:\n  cidr: \"\\uD800\"\n",
       "YAML syntax error at line 5, column 16: invalid unicode: 55296"},
      {head + "metadata:\n  name: p\0\n"s, "YAML: line 4, column 10: the control character 0x00 is not allowed in YAML"},
      {head + "metadata:\n  name: p\x1b[0m\n", "YAML: line 4, column 10: the control character 0x1B is not allowed in YAML"},
      {head + "metadata: {name: p}\nspec:\n  ? [a, b]\n  : 1\n",
       "document 1: spec: a key must be a plain word, not a list or mapping (line 5)"},
      {head + "metadata: {name: p}\nspec:\n  : 1\n", "document 1: spec: an entry has no key (line 5)"},
  };
  for (const auto& c : cases) {
    auto r = parse_resources_yaml(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.error().message, c.message) << c.yaml;
  }
}

TEST(YamlErrors, SyntaxErrorsNameLineAndColumn) {
  auto r = parse_resources_yaml("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: [p\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("YAML syntax error at line ", 0), 0u) << r.error().message;
  auto tab = parse_resources_yaml("a: b\n\tc: d\n");
  ASSERT_FALSE(tab.ok());
  EXPECT_EQ(tab.error().message.rfind("YAML syntax error at line 2", 0), 0u) << tab.error().message;
}

TEST(YamlErrors, SyntaxErrorLinesCountFromTheStartOfTheStream) {
  auto r = parse_resources_yaml(std::string(kRack0Pool) + "---\napiVersion: projectcalico.org/v3\nkind: [IPPool\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("YAML syntax error at line 13, column ", 0), 0u) << r.error().message;
  auto dup = parse_resources_yaml(std::string(kRack1Pool) + "...\n" + kRack0Pool + "  cidr: 10.0.0.0/8\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, "document 2: duplicate field spec.cidr (line 20)");
}

TEST(YamlErrors, InputsThatHangYamlCppLoadAllAreRejected) {
  // yaml-cpp 0.7's LoadAll loops forever on these (jbeder/yaml-cpp#1319); found by our fuzzer.
  for (const char* input : {",", ",\n", "!UUitems,0].metadataUUUUUUUUUUUUUUUUUUUUUUUTU", "a: 1\n---\n,\n"}) {
    auto r = parse_resources_yaml(input);
    EXPECT_FALSE(r.ok()) << input;
  }
  EXPECT_EQ(parse_resources_yaml(std::string(kRack0Pool) + "--- ,\n").error().message,
            "document 2: expected a mapping (a resource with apiVersion, kind, metadata and spec), got an empty "
            "value");
  EXPECT_EQ(parse_resources_yaml("~\n").error().message,
            "document 1: expected a mapping (a resource with apiVersion, kind, metadata and spec), got an empty "
            "value");
  auto nothing = parse_resources_yaml("# nothing here\n---\n---   # still nothing\n\n");
  ASSERT_TRUE(nothing.ok()) << nothing.error().message;
  EXPECT_TRUE(nothing->empty());
}

TEST(YamlErrors, NestingAndAliasExpansionAreBounded) {
  std::string deep = "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: ";
  for (int i = 0; i < 100; ++i) deep += "[";
  auto r = parse_resources_yaml(deep + std::string(100, ']') + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested deeper than 64 levels"), std::string::npos) << r.error().message;

  // "Billion laughs": aliases that expand exponentially.
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c, ++prev) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) laughs += std::string(i ? ", *" : "*") + prev;
    laughs += "]\n";
  }
  auto bomb = parse_resources_yaml(laughs);
  ASSERT_FALSE(bomb.ok());
  EXPECT_EQ(bomb.error().message, "document 1: the document holds more than 100000 values");
}

TEST(YamlErrors, RandomInputNeverCrashes) {
  std::mt19937 rng(42);
  const std::string base = std::string(kRack0Pool) + "---\n" + kRack1Pool;
  std::uniform_int_distribution<int> byte(0, 255);
  const std::string yaml_chars = ":-{}[],&*!|>'\"#%@` \n\t?";
  std::uniform_int_distribution<std::size_t> pick(0, yaml_chars.size() - 1);
  int accepted = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string s = base;
    std::uniform_int_distribution<std::size_t> pos(0, s.size() - 1);
    for (int m = 0; m <= i % 4; ++m) {
      const auto p = pos(rng) % s.size();
      const char c = i % 2 ? static_cast<char>(byte(rng)) : yaml_chars[pick(rng)];
      if (m % 2) {
        s[p] = c;
      } else {
        s.insert(p, 1, c);
      }
    }
    auto r = parse_resources_yaml(s);
    if (r.ok()) {
      ++accepted;
    } else {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations (inside comments or values) stay valid
}

TEST(ResourceKinds, CanonicalKindAcceptsCalicoAliasesInAnyCase) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"ippool", "IPPool"}, {"IPPools", "IPPool"}, {"ipp", "IPPool"}, {"IPPS", "IPPool"},
      {"pool", "IPPool"}, {"Pools", "IPPool"}, {"node", "Node"}, {"NODES", "Node"},
      {"no", "Node"}, {"bgppeer", "BGPPeer"}, {"BGPPeers", "BGPPeer"}, {"bgpp", "BGPPeer"},
      {"bgpps", "BGPPeer"}, {"bgpconfiguration", "BGPConfiguration"},
      {"BGPConfigurations", "BGPConfiguration"}, {"bgpconfig", "BGPConfiguration"},
      {"bgpconfigs", "BGPConfiguration"}, {"workload", "Workload"}, {"Workloads", "Workload"},
  };
  for (const auto& [word, kind] : cases) {
    auto r = canonical_kind(word);
    ASSERT_TRUE(r.ok()) << word;
    EXPECT_EQ(*r, kind) << word;
  }
  for (const char* bad : {"ippoolz", "", "ip", "networkpolicy"}) {
    auto r = canonical_kind(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message, std::string("unknown resource type \"") + bad +
                                     "\" (expected one of ippool, node, bgppeer, bgpconfiguration, bgpfilter, ipreservation, "
                                     "ipamconfiguration, workload)");
  }
}

TEST(ResourceKinds, KindAndNameOfEachResource) {
  IPPool p;
  p.name = "a";
  Node n;
  n.name = "b";
  BGPPeer b;
  b.name = "c";
  BGPConfiguration c;
  c.name = "default";
  EXPECT_EQ(kind_of(p), "IPPool");
  EXPECT_EQ(kind_of(n), "Node");
  EXPECT_EQ(kind_of(b), "BGPPeer");
  EXPECT_EQ(kind_of(c), "BGPConfiguration");
  EXPECT_EQ(name_of(p), "a");
  EXPECT_EQ(name_of(c), "default");
  EXPECT_STREQ(encap_mode_name(EncapMode::CrossSubnet), "CrossSubnet");
  EXPECT_STREQ(encap_mode_name(EncapMode::Always), "Always");
  EXPECT_STREQ(encap_mode_name(EncapMode::Never), "Never");
}

}  // namespace
}  // namespace blockd::ipam
