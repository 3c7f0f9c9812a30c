#include "ipam/resources/selector.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace blockd::ipam {
namespace {

struct MatchCase {
  const char* selector;
  Labels labels;
  bool matches;
};

void check_matches(const std::vector<MatchCase>& cases) {
  for (const auto& c : cases) {
    auto sel = Selector::parse(c.selector);
    ASSERT_TRUE(sel.ok()) << c.selector << ": " << sel.error().message;
    std::string labels;
    for (const auto& [k, v] : c.labels) labels += k + "=" + v + " ";
    EXPECT_EQ(sel->matches(c.labels), c.matches) << "selector: " << c.selector << "  labels: " << labels;
  }
}

const Labels kNone = {};
const Labels kRack0 = {{"rack", "0"}};
const Labels kRack1 = {{"rack", "1"}};
const Labels kWest = {{"zone", "west"}, {"rack", "0"}};
const Labels kEast = {{"zone", "east"}, {"rack", "1"}};

TEST(SelectorGrammar, AllAndEmptyMatchEverything) {
  check_matches({
      {"all()", kNone, true},
      {"all()", kWest, true},
      {"  all ( )  ", kWest, true},
      {"", kNone, true},
      {"   \t\n", kRack0, true},
  });
}

TEST(SelectorGrammar, Equality) {
  check_matches({
      {"rack == '0'", kRack0, true},
      {"rack == '0'", kRack1, false},
      {"rack == '0'", kNone, false},
      {"rack == \"0\"", kRack0, true},
      {"rack=='0'", kRack0, true},
      {"rack == ''", {{"rack", ""}}, true},
      {"rack == ''", kNone, false},
  });
}

TEST(SelectorGrammar, InequalityNeedsTheLabel) {
  // Reference page: "Matches any resource with the label 'k' and value that is not 'v'".
  check_matches({
      {"rack != '0'", kRack1, true},
      {"rack != '0'", kRack0, false},
      {"rack != '0'", kNone, false},
      {"rack!=\"1\"", kRack0, true},
  });
}

TEST(SelectorGrammar, HasAndNotHas) {
  check_matches({
      {"has(rack)", kRack0, true},
      {"has(rack)", kNone, false},
      {"has( rack )", kRack1, true},
      {"!has(rack)", kNone, true},
      {"!has(rack)", kRack0, false},
      {"! has(zone)", kRack0, true},
      {"has(topology.kubernetes.io/zone)", {{"topology.kubernetes.io/zone", "a"}}, true},
  });
}

TEST(SelectorGrammar, InAndNotIn) {
  check_matches({
      {"rack in { '0', '1' }", kRack0, true},
      {"rack in { '0', '1' }", kRack1, true},
      {"rack in { '2' }", kRack1, false},
      {"rack in { '0' }", kNone, false},
      {"rack in {}", kRack0, false},
      {"rack in {\"0\",'1'}", kRack1, true},
      // Reference page: "without label k or ... with label k and value not in the given set".
      {"rack not in { '0', '1' }", kRack0, false},
      {"rack not in { '0' }", kRack1, true},
      {"rack not in { '0' }", kNone, true},
      {"rack not  in{'0'}", kNone, true},
      {"rack not in {}", kRack0, true},
  });
}

TEST(SelectorGrammar, StringOperators) {
  const Labels host = {{"host", "kube-node-12"}};
  check_matches({
      {"host contains 'node'", host, true},
      {"host contains 'rack'", host, false},
      {"host contains ''", host, true},
      {"host contains 'node'", kNone, false},
      {"host starts with 'kube-'", host, true},
      {"host starts with 'node'", host, false},
      {"host starts   with 'kube'", host, true},
      {"host starts with 'kube'", kNone, false},
      {"host ends with '-12'", host, true},
      {"host ends with 'kube'", host, false},
      {"host ends with '2'", kNone, false},
  });
}

TEST(SelectorGrammar, QuotesOfEitherKindHoldTheOther) {
  check_matches({
      {"q == \"it's\"", {{"q", "it's"}}, true},
      {"q == 'say \"hi\"'", {{"q", "say \"hi\""}}, true},
      {"q == 'a && b || !c'", {{"q", "a && b || !c"}}, true},
      {"q == ')'", {{"q", ")"}}, true},
  });
}

TEST(SelectorGrammar, ConjunctionDisjunctionAndPrecedence) {
  check_matches({
      {"zone == 'west' && rack == '0'", kWest, true},
      {"zone == 'west' && rack == '1'", kWest, false},
      {"zone == 'west' || zone == 'east'", kEast, true},
      {"zone == 'north' || zone == 'south'", kEast, false},
      // && binds tighter than ||: a || (b && c)
      {"zone == 'east' || zone == 'west' && rack == '1'", kEast, true},
      {"zone == 'east' || zone == 'west' && rack == '1'", kWest, false},
      {"(zone == 'east' || zone == 'west') && rack == '1'", kWest, false},
      {"(zone == 'east' || zone == 'west') && rack == '0'", kWest, true},
      // ! binds tighter than &&: (!a) && b
      {"!has(zone) && has(rack)", kRack0, true},
      {"!has(zone) && has(rack)", kWest, false},
      {"!(has(zone) && rack == '1')", kWest, true},
      {"!(has(zone) && rack == '1')", kEast, false},
      {"!!has(zone)", kWest, true},
      {"!(rack == '0')", kNone, true},
      {"((((rack == '0'))))", kRack0, true},
      {"a == '1' && b == '2' && c == '3' || d == '4'", {{"d", "4"}}, true},
      {"a == '1' && b == '2' && c == '3' || d == '4'", {{"a", "1"}, {"b", "2"}}, false},
      {"a == '1' && b == '2' && c == '3' || d == '4'", {{"a", "1"}, {"b", "2"}, {"c", "3"}}, true},
  });
}

TEST(SelectorGrammar, LabelKeysAsKubernetesAllows) {
  check_matches({
      {"topology.kubernetes.io/zone == 'a'", {{"topology.kubernetes.io/zone", "a"}}, true},
      {"a.b_c-d == 'x'", {{"a.b_c-d", "x"}}, true},
      {"Rack == 'x'", {{"Rack", "x"}}, true},
      {"9 == 'x'", {{"9", "x"}}, true},
      // Keywords are only keywords where an operator is expected.
      {"in == 'x'", {{"in", "x"}}, true},
      {"has == 'x'", {{"has", "x"}}, true},
      {"all in {'x'}", {{"all", "x"}}, true},
      {"contains contains 'x'", {{"contains", "axb"}}, true},
  });
}

TEST(SelectorGrammar, TheTutorialSelectors) {
  const Labels node0 = {{"rack", "0"}, {"kubernetes.io/hostname", "kube-node-0"}};
  check_matches({
      {"rack == \"0\"", node0, true},
      {"rack == \"1\"", node0, false},
      {"zone == \"west\"", {{"zone", "west"}}, true},
  });
}

TEST(SelectorText, IsTheTrimmedInput) {
  EXPECT_EQ(Selector::parse("  rack == \"0\"\n").value().text(), "rack == \"0\"");
  EXPECT_EQ(Selector::parse("").value().text(), "");
  EXPECT_EQ(Selector::parse("all()").value().text(), "all()");
}

TEST(SelectorText, DefaultConstructedMatchesAll) {
  Selector s;
  EXPECT_TRUE(s.matches(kNone));
}

struct ErrorCase {
  std::string selector;
  std::string message;
};

TEST(SelectorErrors, NameThePositionAndWhatWasExpected) {
  const std::vector<ErrorCase> cases = {
      {"rack == ", "selector \"rack == \": at position 8: expected a quoted value after =="},
      {"rack == 0", "selector \"rack == 0\": at position 8: expected a quoted value after =="},
      {"rack != ", "selector \"rack != \": at position 8: expected a quoted value after !="},
      {"rack = '0'", "selector \"rack = '0'\": at position 5: expected == (not =) after label key rack"},
      {"rack", "selector \"rack\": at position 4: expected an operator (==, !=, in, not in, contains, "
               "starts with, ends with) after label key rack"},
      {"rack is '0'", "selector \"rack is '0'\": at position 5: expected an operator (==, !=, in, not "
                      "in, contains, starts with, ends with) after label key rack"},
      {"rack == '0", "selector \"rack == '0\": at position 8: unterminated value: no closing '"},
      {"rack == \"0'", "selector \"rack == \"0'\": at position 8: unterminated value: no closing \""},
      {"rack in '0'", "selector \"rack in '0'\": at position 8: expected '{' after in"},
      {"rack not in '0'", "selector \"rack not in '0'\": at position 12: expected '{' after not in"},
      {"rack not '0'", "selector \"rack not '0'\": at position 9: expected 'in' after 'not'"},
      {"rack in { '0' '1' }",
       "selector \"rack in { '0' '1' }\": at position 14: expected ',' or '}' to close the set opened "
       "at position 8"},
      {"rack in { '0', }", "selector \"rack in { '0', }\": at position 15: expected a quoted value after ','"},
      {"rack in { 0 }", "selector \"rack in { 0 }\": at position 10: expected a quoted value or '}' in the set"},
      {"rack in { '0'", "selector \"rack in { '0'\": at position 13: expected ',' or '}' to close the set "
                        "opened at position 8"},
      {"host starts 'a'", "selector \"host starts 'a'\": at position 12: expected 'with' after 'starts'"},
      {"host ends 'a'", "selector \"host ends 'a'\": at position 10: expected 'with' after 'ends'"},
      {"host contains", "selector \"host contains\": at position 13: expected a quoted value after contains"},
      {"host starts with", "selector \"host starts with\": at position 16: expected a quoted value after starts with"},
      {"host ends with x", "selector \"host ends with x\": at position 15: expected a quoted value after ends with"},
      {"has(rack", "selector \"has(rack\": at position 8: expected ')' after has(rack"},
      {"has()", "selector \"has()\": at position 4: expected a label key after has("},
      {"has('rack')", "selector \"has('rack')\": at position 4: expected a label key after has( (label "
                      "keys are written without quotes)"},
      {"all(", "selector \"all(\": at position 4: expected ')' after all("},
      {"all(x)", "selector \"all(x)\": at position 4: expected ')' after all("},
      {"'rack' == '0'", "selector \"'rack' == '0'\": at position 0: expected a label key (label keys are "
                        "written without quotes)"},
      {"rack == '0' &&", "selector \"rack == '0' &&\": at position 14: expected a label key, all(), "
                         "has(key), '!' or '('"},
      {"rack == '0' ||", "selector \"rack == '0' ||\": at position 14: expected a label key, all(), "
                         "has(key), '!' or '('"},
      {"rack == '0' & zone == 'a'", "selector \"rack == '0' & zone == 'a'\": at position 12: expected && "
                                    "but found a single &"},
      {"rack == '0' | zone == 'a'", "selector \"rack == '0' | zone == 'a'\": at position 12: expected || "
                                    "but found a single |"},
      {"rack == '0' zone == 'a'", "selector \"rack == '0' zone == 'a'\": at position 12: expected &&, || "
                                  "or the end of the selector"},
      {"(rack == '0'", "selector \"(rack == '0'\": at position 12: expected ')' to close the '(' at position 0"},
      {"rack == '0')", "selector \"rack == '0')\": at position 11: unexpected ')' with no matching '('"},
      {"()", "selector \"()\": at position 1: expected a label key, all(), has(key), '!' or '('"},
      {"!", "selector \"!\": at position 1: expected a label key, all(), has(key), '!' or '('"},
      {"&&", "selector \"&&\": at position 0: expected a label key, all(), has(key), '!' or '('"},
      {"== '0'", "selector \"== '0'\": at position 0: expected a label key, all(), has(key), '!' or '('"},
      {"-rack == '0'", "selector \"-rack == '0'\": at position 0: label key \"-rack\" is not valid: it must "
                       "start and end with a letter or digit"},
      {"a/b/c == '0'", "selector \"a/b/c == '0'\": at position 0: label key \"a/b/c\" is not valid: it has "
                       "more than one '/'"},
      {"Example.com/rack == '0'",
       "selector \"Example.com/rack == '0'\": at position 0: label key \"Example.com/rack\" is not valid: the "
       "prefix before '/' must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 "
       "characters)"},
      {"example.com/ == '0'", "selector \"example.com/ == '0'\": at position 0: label key \"example.com/\" is "
                              "not valid: the name part must be 1 to 63 characters"},
      {"has(a/)", "selector \"has(a/)\": at position 4: label key \"a/\" is not valid: the name part must be 1 "
                  "to 63 characters"},
      {std::string(64, 'k') + " == 'v'", "selector \"" + std::string(64, 'k') +
                                              " == 'v'\": at position 0: label key \"" + std::string(64, 'k') +
                                              "\" is not valid: the name part must be 1 to 63 characters"},
  };
  for (const auto& c : cases) {
    auto r = Selector::parse(c.selector);
    ASSERT_FALSE(r.ok()) << c.selector;
    EXPECT_EQ(r.error().message, c.message);
    EXPECT_EQ(r.error().code, ErrorCode::Invalid);
  }
}

TEST(SelectorErrors, TypographicQuotesFromTheReferencePage) {
  // The reference page renders `k == 'v'` with U+2018/U+2019 and users paste them.
  const std::vector<ErrorCase> cases = {
      {"rack == \u2018" "0\u2019", "selector \"rack == \u2018" "0\u2019\": at position 8: use ' or \" instead "
                                   "of a typographic quote"},
      {"rack == \u201C" "0\u201D", "selector \"rack == \u201C" "0\u201D\": at position 8: use ' or \" instead "
                                   "of a typographic quote"},
      {"rack in { \u2018" "0\u2019 }", "selector \"rack in { \u2018" "0\u2019 }\": at position 10: use ' or \" "
                                       "instead of a typographic quote"},
      {"rack in { '0', \u2018" "1\u2019 }", "selector \"rack in { '0', \u2018" "1\u2019 }\": at position 15: use "
                                            "' or \" instead of a typographic quote"},
      {"\u2018rack\u2019 == '0'", "selector \"\u2018rack\u2019 == '0'\": at position 0: use ' or \" instead of a "
                                  "typographic quote"},
      {"has(\u201Crack\u201D)", "selector \"has(\u201Crack\u201D)\": at position 4: use ' or \" instead of a "
                                "typographic quote"},
  };
  for (const auto& c : cases) {
    auto r = Selector::parse(c.selector);
    ASSERT_FALSE(r.ok()) << c.selector;
    EXPECT_EQ(r.error().message, c.message);
  }
}

TEST(SelectorErrors, EchoedTextIsShortAndPrintable) {
  using namespace std::string_literals;
  auto ctl = Selector::parse("rack == \x01"s);
  ASSERT_FALSE(ctl.ok());
  EXPECT_EQ(ctl.error().message, "selector \"rack == \\x01\": at position 8: expected a quoted value after ==");
  auto bad_utf8 = Selector::parse("r\xff == 'a'");
  ASSERT_FALSE(bad_utf8.ok());
  EXPECT_EQ(bad_utf8.error().message,
            "selector \"r\\xff == 'a'\": at position 1: expected an operator (==, !=, in, not in, contains, "
            "starts with, ends with) after label key r");
  const std::string long_text = "has(a) && rack " + std::string(300, '!');
  auto long_one = Selector::parse(long_text);
  ASSERT_FALSE(long_one.ok());
  EXPECT_EQ(long_one.error().message, "selector \"" + long_text.substr(0, 200) + "...\": at position 15: expected an "
                                      "operator (==, !=, in, not in, contains, starts with, ends with) after label key "
                                      "rack");
  auto long_key = Selector::parse(std::string(300, 'k') + " == 'v'");
  ASSERT_FALSE(long_key.ok());
  EXPECT_EQ(long_key.error().message, "selector \"" + std::string(200, 'k') + "...\": at position 0: label key \"" +
                                          std::string(200, 'k') + "...\" is not valid: the name part must be 1 to 63 "
                                          "characters");
}

TEST(SelectorErrors, NestingIsBounded) {
  const std::string ok = std::string(64, '(') + "has(a)" + std::string(64, ')');
  EXPECT_TRUE(Selector::parse(ok).ok());
  const std::string deep = std::string(65, '(') + "has(a)" + std::string(65, ')');
  auto r = Selector::parse(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("at position 64: nesting deeper than 64 levels of '(' and '!'"),
            std::string::npos)
      << r.error().message;

  EXPECT_TRUE(Selector::parse(std::string(64, '!') + "has(a)").ok());
  auto bangs = Selector::parse(std::string(100000, '!') + "has(a)");
  ASSERT_FALSE(bangs.ok());
  EXPECT_NE(bangs.error().message.find("at position 64: nesting deeper than 64 levels"), std::string::npos);
  auto parens = Selector::parse(std::string(100000, '('));
  ASSERT_FALSE(parens.ok());
}

TEST(SelectorErrors, LongFlatExpressionsAreNotNesting) {
  // && and || chains are flat: a thousand terms are fine (and need no deep recursion).
  std::string s = "has(a)";
  for (int i = 0; i < 1000; ++i) s += (i % 2 ? " && has(a)" : " || !has(b)");
  auto r = Selector::parse(s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->matches({{"a", "1"}}));
}

TEST(SelectorFuzz, RandomBytesNeverCrash) {
  std::mt19937 rng(20261123);
  using namespace std::string_literals;
  const std::string alphabet = "ab01 ()!&|=,{}'\"\\/.-_\xE2\x80\x98\x99\x9c\x9d\t\n\0hasllintocsewd"s;
  std::uniform_int_distribution<int> len(0, 40);
  std::uniform_int_distribution<int> any_byte(0, 255);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  const Labels labels = {{"a", "0"}, {"b", "1"}};
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = len(rng);
    for (int j = 0; j < n; ++j) {
      s.push_back(i % 2 ? static_cast<char>(any_byte(rng)) : alphabet[pick(rng)]);
    }
    auto r = Selector::parse(s);
    if (r.ok()) {
      ++parsed;
      (void)r->matches(labels);
    } else {
      EXPECT_EQ(r.error().message.rfind("selector \"", 0), 0u) << s;
      EXPECT_NE(r.error().message.find(": at position "), std::string::npos) << s;
    }
  }
  EXPECT_GT(parsed, 0);  // some random strings are valid selectors (e.g. blanks)
}

TEST(SelectorFuzz, MutatedValidSelectorsNeverCrash) {
  const std::string base = "(zone == 'west' || rack in {'0','1'}) && !has(x) && h starts with \"k\"";
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> pos(0, base.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  const Labels labels = {{"zone", "west"}, {"rack", "1"}, {"h", "kube"}};
  ASSERT_TRUE(Selector::parse(base)->matches(labels));
  for (int i = 0; i < 20000; ++i) {
    std::string s = base;
    for (int m = 0; m < 3; ++m) {
      const auto p = pos(rng);
      switch (i % 3) {
        case 0: s[p % s.size()] = static_cast<char>(byte(rng)); break;
        case 1: s.erase(p % s.size(), 1); break;
        default: s.insert(p % (s.size() + 1), 1, static_cast<char>(byte(rng))); break;
      }
    }
    auto r = Selector::parse(s);
    if (r.ok()) (void)r->matches(labels);
  }
}

TEST(LabelRules, KeysAndValues) {
  EXPECT_TRUE(validate_label_key("rack").ok());
  EXPECT_TRUE(validate_label_key("kubernetes.io/hostname").ok());
  EXPECT_EQ(validate_label_key("a b").error().message,
            "label key \"a b\" is not valid: the name part may hold only letters, digits, '.', '_' and '-'");
  EXPECT_EQ(validate_label_key("").error().message,
            "label key \"\" is not valid: the name part must be 1 to 63 characters");
  EXPECT_TRUE(validate_label_value("").ok());
  EXPECT_TRUE(validate_label_value("kube-node-0").ok());
  EXPECT_EQ(validate_label_value("us west").error().message,
            "label value \"us west\" is not valid: at most 63 letters, digits, '.', '_' or '-', starting "
            "and ending with a letter or digit");
  EXPECT_FALSE(validate_label_value(std::string(64, 'v')).ok());
}

}  // namespace
}  // namespace blockd::ipam
