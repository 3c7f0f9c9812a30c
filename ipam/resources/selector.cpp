#include "ipam/resources/selector.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>
#include <vector>

namespace blockd::ipam {

struct Selector::Node {
  enum class Op { All, Eq, NotEq, Has, In, NotIn, Contains, StartsWith, EndsWith, Not, And, Or };
  Op op = Op::All;
  std::string key;
  std::vector<std::string> values;  // one for Eq..EndsWith; the set for In and NotIn
  std::vector<Node> children;       // And/Or: two or more; Not: one
};

namespace {

using Node = Selector::Node;
using Op = Node::Op;

// Bounds the recursion of parser and evaluator, so any input string is safe.
constexpr int kMaxDepth = 64;

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}
bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Kubernetes label name: 1-63 characters [A-Za-z0-9._-], alphanumeric at both ends.
std::optional<std::string> name_part_problem(std::string_view name) {
  if (name.empty() || name.size() > 63) return "the name part must be 1 to 63 characters";
  if (!is_alnum(name.front()) || !is_alnum(name.back())) {
    return "it must start and end with a letter or digit";
  }
  for (char c : name) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != '-') {
      return "the name part may hold only letters, digits, '.', '_' and '-'";
    }
  }
  return std::nullopt;
}

// Kubernetes label key prefix: a DNS subdomain (RFC 1123), lowercase.
std::optional<std::string> prefix_problem(std::string_view prefix) {
  const std::string rule =
      "the prefix before '/' must be a DNS subdomain (lowercase letters, digits, '-' and '.', "
      "at most 253 characters)";
  if (prefix.empty() || prefix.size() > 253) return rule;
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  std::size_t start = 0;
  while (start <= prefix.size()) {
    auto dot = prefix.find('.', start);
    if (dot == std::string_view::npos) dot = prefix.size();
    const auto label = prefix.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || !lower_alnum(label.front()) ||
        !lower_alnum(label.back())) {
      return rule;
    }
    for (char c : label) {
      if (!lower_alnum(c) && c != '-') return rule;
    }
    start = dot + 1;
  }
  return std::nullopt;
}

std::optional<std::string> label_key_problem(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return name_part_problem(key);
  if (key.find('/', slash + 1) != std::string_view::npos) return "it has more than one '/'";
  if (auto p = prefix_problem(key.substr(0, slash))) return p;
  return name_part_problem(key.substr(slash + 1));
}

// Typographic quotes (U+2018, U+2019, U+201C, U+201D in UTF-8): Calico's docs render selector
// examples with them, so people paste them.
bool typographic_quote_at(std::string_view s, std::size_t pos) {
  static constexpr std::array<std::string_view, 4> quotes = {"\xE2\x80\x98", "\xE2\x80\x99",
                                                            "\xE2\x80\x9C", "\xE2\x80\x9D"};
  const auto rest = s.substr(std::min(pos, s.size()));
  return std::any_of(quotes.begin(), quotes.end(),
                     [&](std::string_view q) { return rest.starts_with(q); });
}

// The selector as echoed in an error message: at most 200 bytes, with control characters and
// bytes that are not UTF-8 written as \xNN, so that a message is always printable and valid
// UTF-8 (it may end up in JSON).
std::string echo(std::string_view s) {
  constexpr std::size_t kMaxEcho = 200;
  std::string out;
  std::size_t i = 0;
  auto escape = [&](unsigned char c) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 0xF];
  };
  while (i < s.size() && i < kMaxEcho) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) {
        escape(c);
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    bool ok = len != 0 && i + len <= s.size();
    std::uint32_t cp = len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    ok = ok && cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    if (!ok) {
      escape(c);
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  if (i < s.size()) out += "...";
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Node> parse() {
    Node root;
    if (!parse_or(root)) return failure();
    skip_ws();
    if (pos_ < s_.size()) {
      if (s_[pos_] == ')') return fail(pos_, "unexpected ')' with no matching '('"), failure();
      if (typographic_quote_at(s_, pos_)) return fail_typographic(pos_), failure();
      if (s_[pos_] == '&' || s_[pos_] == '|') {
        return fail(pos_, std::string("expected ") + s_[pos_] + s_[pos_] + " but found a single " +
                              s_[pos_]),
               failure();
      }
      return fail(pos_, "expected &&, || or the end of the selector"), failure();
    }
    return root;
  }

 private:
  Error failure() const { return invalid("selector \"" + echo(s_) + "\": " + error_); }

  bool fail(std::size_t at, const std::string& what) {
    if (error_.empty()) error_ = "at position " + std::to_string(at) + ": " + what;
    return false;
  }
  bool fail_typographic(std::size_t at) {
    return fail(at, "use ' or \" instead of a typographic quote");
  }

  void skip_ws() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }
  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  bool consume(std::string_view token) {
    skip_ws();
    if (s_.substr(pos_).starts_with(token)) {
      pos_ += token.size();
      return true;
    }
    return false;
  }
  // A keyword: the word followed by something that cannot continue a label key.
  bool consume_word(std::string_view word) {
    skip_ws();
    if (!s_.substr(pos_).starts_with(word)) return false;
    const auto after = pos_ + word.size();
    if (after < s_.size() && is_key_char(s_[after])) return false;
    pos_ = after;
    return true;
  }

  bool enter(std::size_t at) {
    if (++depth_ > kMaxDepth) {
      return fail(at, "nesting deeper than " + std::to_string(kMaxDepth) + " levels of '(' and '!'");
    }
    return true;
  }

  // or := and ( '||' and )*
  bool parse_or(Node& out) {
    Node first;
    if (!parse_and(first)) return false;
    std::vector<Node> terms;
    while (consume("||")) {
      Node next;
      if (!parse_and(next)) return false;
      if (terms.empty()) terms.push_back(std::move(first));
      terms.push_back(std::move(next));
    }
    if (terms.empty()) {
      out = std::move(first);
    } else {
      out.op = Op::Or;
      out.children = std::move(terms);
    }
    return true;
  }

  // and := unary ( '&&' unary )*   (&& binds tighter than ||, as in Calico)
  bool parse_and(Node& out) {
    Node first;
    if (!parse_unary(first)) return false;
    std::vector<Node> terms;
    while (consume("&&")) {
      Node next;
      if (!parse_unary(next)) return false;
      if (terms.empty()) terms.push_back(std::move(first));
      terms.push_back(std::move(next));
    }
    if (terms.empty()) {
      out = std::move(first);
    } else {
      out.op = Op::And;
      out.children = std::move(terms);
    }
    return true;
  }

  // unary := '!' unary | primary   (! binds tighter than &&)
  bool parse_unary(Node& out) {
    skip_ws();
    if (peek() == '!' && !s_.substr(pos_).starts_with("!=")) {
      const auto at = pos_++;
      if (!enter(at)) return false;
      Node inner;
      if (!parse_unary(inner)) return false;
      --depth_;
      out.op = Op::Not;
      out.children.push_back(std::move(inner));
      return true;
    }
    return parse_primary(out);
  }

  // primary := '(' or ')' | all() | has(key) | key operator
  bool parse_primary(Node& out) {
    skip_ws();
    const auto start = pos_;
    if (peek() == '(') {
      ++pos_;
      if (!enter(start)) return false;
      if (!parse_or(out)) return false;
      --depth_;
      skip_ws();
      if (peek() != ')') {
        if (typographic_quote_at(s_, pos_)) return fail_typographic(pos_);
        return fail(pos_, "expected ')' to close the '(' at position " + std::to_string(start));
      }
      ++pos_;
      return true;
    }
    if (typographic_quote_at(s_, pos_)) return fail_typographic(pos_);
    if (peek() == '\'' || peek() == '"') {
      return fail(pos_, "expected a label key (label keys are written without quotes)");
    }
    if (!is_key_char(peek())) {
      return fail(pos_, "expected a label key, all(), has(key), '!' or '('");
    }
    std::string key = read_key();
    if (key == "all" || key == "has") {
      skip_ws();
      if (peek() == '(') {
        ++pos_;
        return key == "all" ? parse_all(out) : parse_has(out);
      }
    }
    if (auto problem = label_key_problem(key)) {
      return fail(start, "label key \"" + echo(key) + "\" is not valid: " + *problem);
    }
    return parse_operator(std::move(key), out);
  }

  std::string read_key() {
    const auto start = pos_;
    while (pos_ < s_.size() && is_key_char(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  bool parse_all(Node& out) {
    skip_ws();
    if (peek() != ')') return fail(pos_, "expected ')' after all(");
    ++pos_;
    out.op = Op::All;
    return true;
  }

  bool parse_has(Node& out) {
    skip_ws();
    const auto start = pos_;
    if (typographic_quote_at(s_, pos_)) return fail_typographic(pos_);
    if (!is_key_char(peek())) {
      if (peek() == '\'' || peek() == '"') {
        return fail(pos_, "expected a label key after has( (label keys are written without quotes)");
      }
      return fail(pos_, "expected a label key after has(");
    }
    std::string key = read_key();
    if (auto problem = label_key_problem(key)) {
      return fail(start, "label key \"" + echo(key) + "\" is not valid: " + *problem);
    }
    skip_ws();
    if (peek() != ')') return fail(pos_, "expected ')' after has(" + echo(key));
    ++pos_;
    out.op = Op::Has;
    out.key = std::move(key);
    return true;
  }

  bool parse_operator(std::string key, Node& out) {
    out.key = std::move(key);
    skip_ws();
    if (consume("==")) return parse_single(Op::Eq, "==", out);
    if (consume("!=")) return parse_single(Op::NotEq, "!=", out);
    if (consume_word("in")) return parse_set(Op::In, "in", out);
    if (consume_word("contains")) return parse_single(Op::Contains, "contains", out);
    const auto word_at = pos_;
    if (consume_word("not")) {
      if (!consume_word("in")) return fail(pos_, "expected 'in' after 'not'");
      return parse_set(Op::NotIn, "not in", out);
    }
    if (consume_word("starts")) {
      if (!consume_word("with")) return fail(pos_, "expected 'with' after 'starts'");
      return parse_single(Op::StartsWith, "starts with", out);
    }
    if (consume_word("ends")) {
      if (!consume_word("with")) return fail(pos_, "expected 'with' after 'ends'");
      return parse_single(Op::EndsWith, "ends with", out);
    }
    if (peek() == '=') return fail(word_at, "expected == (not =) after label key " + echo(out.key));
    return fail(word_at, "expected an operator (==, !=, in, not in, contains, starts with, ends "
                         "with) after label key " + echo(out.key));
  }

  bool parse_single(Op op, const std::string& after, Node& out) {
    std::string value;
    if (!parse_value(value, "after " + after)) return false;
    out.op = op;
    out.values.push_back(std::move(value));
    return true;
  }

  // A quoted string: '...' or "...", no escapes (as in Calico).
  bool parse_value(std::string& value, const std::string& where) {
    skip_ws();
    if (typographic_quote_at(s_, pos_)) return fail_typographic(pos_);
    const char quote = peek();
    if (quote != '\'' && quote != '"') return fail(pos_, "expected a quoted value " + where);
    const auto open = pos_;
    const auto close = s_.find(quote, open + 1);
    if (close == std::string_view::npos) {
      return fail(open, std::string("unterminated value: no closing ") + quote);
    }
    value = std::string(s_.substr(open + 1, close - open - 1));
    pos_ = close + 1;
    return true;
  }

  // set := '{' [ value ( ',' value )* ] '}'
  bool parse_set(Op op, const std::string& after, Node& out) {
    skip_ws();
    if (peek() != '{') return fail(pos_, "expected '{' after " + after);
    const auto open = pos_++;
    out.op = op;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      std::string value;
      if (!parse_value(value, out.values.empty() ? "or '}' in the set" : "after ','")) return false;
      out.values.push_back(std::move(value));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      if (typographic_quote_at(s_, pos_)) return fail_typographic(pos_);
      return fail(pos_, "expected ',' or '}' to close the set opened at position " +
                            std::to_string(open));
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::string error_;
};

bool label_is(const Labels& labels, const std::string& key, auto&& predicate) {
  auto it = labels.find(key);
  return it != labels.end() && predicate(it->second);
}

bool evaluate(const Node& n, const Labels& labels) {
  switch (n.op) {
    case Op::All:
      return true;
    case Op::Eq:
      return label_is(labels, n.key, [&](const std::string& v) { return v == n.values[0]; });
    // Reference page: "with the label k and value that is not v" (a node without k does not match).
    case Op::NotEq:
      return label_is(labels, n.key, [&](const std::string& v) { return v != n.values[0]; });
    case Op::Has:
      return labels.contains(n.key);
    case Op::In:
      return label_is(labels, n.key, [&](const std::string& v) {
        return std::find(n.values.begin(), n.values.end(), v) != n.values.end();
      });
    // Reference page: "without label k or ... with label k and value not in the given set".
    case Op::NotIn: {
      auto it = labels.find(n.key);
      return it == labels.end() ||
             std::find(n.values.begin(), n.values.end(), it->second) == n.values.end();
    }
    case Op::Contains:
      return label_is(labels, n.key,
                      [&](const std::string& v) { return v.find(n.values[0]) != std::string::npos; });
    case Op::StartsWith:
      return label_is(labels, n.key, [&](const std::string& v) { return v.starts_with(n.values[0]); });
    case Op::EndsWith:
      return label_is(labels, n.key, [&](const std::string& v) { return v.ends_with(n.values[0]); });
    case Op::Not:
      return !evaluate(n.children[0], labels);
    case Op::And:
      return std::all_of(n.children.begin(), n.children.end(),
                         [&](const Node& c) { return evaluate(c, labels); });
    case Op::Or:
      return std::any_of(n.children.begin(), n.children.end(),
                         [&](const Node& c) { return evaluate(c, labels); });
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Selector> Selector::parse(std::string_view text) {
  Selector sel;
  sel.text_ = std::string(trim(text));
  if (sel.text_.empty()) {
    sel.root_ = std::make_shared<const Node>();  // Calico: an empty selector is all()
    return sel;
  }
  auto root = Parser(text).parse();
  if (!root) return root.error();
  sel.root_ = std::make_shared<const Node>(std::move(*root));
  return sel;
}

bool Selector::matches(const Labels& labels) const {
  return root_ == nullptr || evaluate(*root_, labels);
}

Status validate_label_key(std::string_view key) {
  if (auto problem = label_key_problem(key)) {
    return invalid("label key \"" + echo(key) + "\" is not valid: " + *problem);
  }
  return {};
}

Status validate_label_value(std::string_view value) {
  // Kubernetes: empty, or at most 63 characters [A-Za-z0-9._-] with alphanumerics at both ends.
  if (value.empty()) return {};
  bool ok = value.size() <= 63 && is_alnum(value.front()) && is_alnum(value.back()) &&
            std::all_of(value.begin(), value.end(),
                        [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-'; });
  if (!ok) {
    return invalid("label value \"" + echo(value) +
                   "\" is not valid: at most 63 letters, digits, '.', '_' or '-', starting and "
                   "ending with a letter or digit");
  }
  return {};
}

}  // namespace blockd::ipam
