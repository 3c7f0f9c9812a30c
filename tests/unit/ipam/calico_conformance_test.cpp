// Calico's own test tables, kept as data in data/ (see data/README.md): libcalico-go's selector
// parser tests and the IPPool cases of its v3 validator tests. Every case must give Calico's
// answer, or, where the table says blockd differs on purpose and why, blockd's documented answer.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "ipam/resources/resource_codec.hpp"
#include "ipam/resources/selector.hpp"

namespace blockd::ipam {
namespace {

using nlohmann::json;

json load_table(const std::string& file) {
  const std::string path = std::string(BLOCKD_IPAM_TEST_DATA) + "/" + file;
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return json::object();
  }
  return json::parse(in);
}

// What the table's header promises: the upstream file and commit, and cases that name a line of
// that file.
void check_header(const json& table) {
  ASSERT_TRUE(table.contains("upstream") && table.contains("cases"));
  EXPECT_TRUE(std::regex_match(table["upstream"]["commit"].get<std::string>(), std::regex("[0-9a-f]{40}")));
  const std::string file = table["upstream"]["file"].get<std::string>();
  for (const auto& c : table["cases"]) {
    const std::string source = c.at("source").get<std::string>();
    EXPECT_TRUE(std::regex_match(source, std::regex(std::regex_replace(file, std::regex("\\."), "\\.") + ":[0-9]+")))
        << source;
  }
}

// The answer the case asks of blockd: Calico's, unless the case documents a difference.
struct Expectation {
  std::string answer;
  bool documented_difference = false;
};

Expectation expectation(const json& c) {
  const std::string calico = c.at("calico").get<std::string>();
  if (!c.contains("blockd")) return {calico, false};
  EXPECT_NE(c["blockd"].get<std::string>(), calico) << c["source"] << ": a difference must differ";
  EXPECT_FALSE(c.value("difference", "").empty()) << c["source"] << ": a difference must say why";
  return {c["blockd"].get<std::string>(), true};
}

Labels labels_of(const json& j, const std::string& key_prefix = "") {
  Labels labels;
  for (const auto& [k, v] : j.items()) labels[key_prefix + k] = v.get<std::string>();
  return labels;
}

void report(const std::string& table, int agree, int differ) {
  std::cout << "calico " << table << " cases: " << agree << " agree with Calico, " << differ
            << " documented differences\n";
}

TEST(CalicoSelectorTable, EveryCaseGivesCalicosAnswerOrTheDocumentedDifference) {
  const json table = load_table("calico_selector_cases.json");
  check_header(table);
  std::vector<Labels> probes;
  for (const auto& p : table.at("probe_labels")) probes.push_back(labels_of(p));
  int agree = 0;
  int differ = 0;
  for (const auto& c : table["cases"]) {
    const std::string text = c.at("selector").get<std::string>();
    SCOPED_TRACE(c["source"].get<std::string>() + ": selector " + text);
    const Expectation want = expectation(c);
    ++(want.documented_difference ? differ : agree);
    auto sel = Selector::parse(text);
    if (want.answer == "parse error") {
      EXPECT_FALSE(sel.ok());
      continue;
    }
    if (!sel.ok()) {
      ADD_FAILURE() << sel.error().message;
      continue;
    }
    if (want.answer == "match" || want.answer == "no match") {
      EXPECT_EQ(sel->matches(labels_of(c.at("labels"))), want.answer == "match") << c["labels"].dump();
    } else if (want.answer == "same as canonical") {
      auto canonical = Selector::parse(c.at("canonical").get<std::string>());
      ASSERT_TRUE(canonical.ok()) << canonical.error().message;
      for (std::size_t i = 0; i < probes.size(); ++i) {
        EXPECT_EQ(sel->matches(probes[i]), canonical->matches(probes[i])) << table["probe_labels"][i].dump();
      }
    } else if (want.answer == "same as visited") {
      // Calico's PrefixVisitor puts "visited/" before every label key.
      auto visited = Selector::parse(c.at("visited").get<std::string>());
      ASSERT_TRUE(visited.ok()) << visited.error().message;
      for (std::size_t i = 0; i < probes.size(); ++i) {
        EXPECT_EQ(sel->matches(probes[i]), visited->matches(labels_of(table["probe_labels"][i], "visited/")))
            << table["probe_labels"][i].dump();
      }
    } else {
      ADD_FAILURE() << "unknown expectation " << want.answer;
    }
  }
  report("selector", agree, differ);
  // The one intended difference: k != 'v' on a resource without k (README, Selectors and pools).
  EXPECT_EQ(differ, 1);
  EXPECT_GE(agree, 150);
}

// "{{x*N}}" in the table stands for N letters x (upstream's longValue[:N]).
json expand(const json& j) {
  static const std::regex repeat(R"(\{\{x\*([0-9]+)\}\})");
  std::smatch m;
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (std::regex_match(s, m, repeat)) return std::string(std::stoul(m[1].str()), 'x');
    return j;
  }
  if (j.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : j.items()) out[k] = expand(v);
    return out;
  }
  return j;
}

TEST(CalicoIPPoolTable, EveryCaseGivesCalicosAnswerOrTheDocumentedDifference) {
  const json table = load_table("calico_ippool_cases.json");
  check_header(table);
  int agree = 0;
  int differ = 0;
  for (const auto& c : table["cases"]) {
    SCOPED_TRACE(c["source"].get<std::string>() + ": " + c.value("title", ""));
    const Expectation want = expectation(c);
    ++(want.documented_difference ? differ : agree);
    // JSON is YAML: the document goes the way of `blockctl create -f`.
    auto parsed = parse_resources_yaml(expand(c.at("document")).dump());
    if (want.answer == "valid") {
      if (!parsed.ok()) {
        ADD_FAILURE() << parsed.error().message;
        continue;
      }
      ASSERT_EQ(parsed->size(), 1u);
      // What `blockctl get ippool -o yaml` prints loads back as the same pool.
      auto again = parse_resources_yaml(resource_to_yaml(parsed->front()));
      ASSERT_TRUE(again.ok()) << again.error().message;
      EXPECT_EQ(again->front(), parsed->front());
    } else if (want.answer == "invalid") {
      ASSERT_FALSE(parsed.ok());
      const std::string error = c.at("error").get<std::string>();
      EXPECT_NE(parsed.error().message.find(error), std::string::npos)
          << "message: " << parsed.error().message << "\nexpected it to hold: " << error;
    } else {
      ADD_FAILURE() << "unknown expectation " << want.answer;
    }
  }
  report("IPPool", agree, differ);
  // namespaceSelector other than all(): blockd cannot evaluate it (README, Selectors and pools).
  EXPECT_EQ(differ, 3);
  EXPECT_GE(agree, 55);
}

}  // namespace
}  // namespace blockd::ipam
