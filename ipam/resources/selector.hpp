// Calico label selectors: all(), k == 'v', k != 'v', has(k), !has(k), k in {...},
// k not in {...}, k contains 's', k starts with 's', k ends with 's', &&, plus ||, ! and
// parentheses; single and double quotes. As Calico's tokenizer, the operators of two words may
// be written as one (notin, startswith, endswith), and global() parses (it evaluates as all()).
// Parsing never crashes on any input.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ipam/net/result.hpp"
#include "ipam/resources/labels.hpp"

namespace blockd::ipam {

class Selector {
 public:
  // An empty (or all-blank) selector means all(), as in Calico.
  // A parse error names the 0-based position and what was expected there, e.g.
  // `selector "rack == ": at position 8: expected a quoted value after ==`.
  static Result<Selector> parse(std::string_view text);

  bool matches(const Labels& labels) const;
  // The selector as written (trimmed), for messages and `get ippool -o wide`.
  const std::string& text() const { return text_; }

  struct Node;  // the parsed expression tree (selector.cpp)

 private:
  std::shared_ptr<const Node> root_;  // shared: Selectors are cheap to copy
  std::string text_;
};

// A selector parsed from a resource's text field, carried beside it. Derived from the text, so it
// takes no part in the resource's equality.
struct ParsedSelector {
  std::optional<Selector> selector;
  friend bool operator==(const ParsedSelector&, const ParsedSelector&) { return true; }
};

// Kubernetes label rules, shared by selectors, resource labels and annotation keys. Key: an optional DNS-subdomain
// prefix and '/', then 1-63 of [A-Za-z0-9._-] starting and ending with an alphanumeric.
// Value: empty, or 1-63 of [A-Za-z0-9._-] starting and ending with an alphanumeric.
// `what` names the key in the message ("label key", "annotation key").
Status validate_label_key(std::string_view key, std::string_view what = "label key");
Status validate_label_value(std::string_view value);

}  // namespace blockd::ipam
