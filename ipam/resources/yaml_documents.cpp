#include "ipam/resources/yaml_documents.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>

#include "ipam/resources/json_fields.hpp"

namespace blockd::ipam {
namespace {

using nlohmann::json;
using json_fields::join_path;

constexpr int kMaxYamlDepth = 64;
constexpr std::size_t kMaxYamlValues = 100000;  // per document; bounds alias expansion

// ---------------------------------------------------------------------------------------------
// YAML -> JSON. Plain scalars are typed as YAML 1.2's core schema does (null, bool, int; the rest
// are strings); quoted scalars always stay strings. Label and annotation values keep their text.

// One document of the stream and the 0-based line of the stream where it starts.
struct DocumentText {
  std::string text;
  std::size_t first_line = 0;
};

bool marker_line(std::string_view line, std::string_view marker) {
  return line.starts_with(marker) &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r' || line[3] == '\n');
}

// Splits a stream at its document markers: "---" starts a document and "..." ends one, both at
// the start of a line (YAML 1.2 §9.1). Each document is then parsed on its own, because
// yaml-cpp 0.7's LoadAll can loop forever on malformed input (jbeder/yaml-cpp#1319).
std::vector<DocumentText> split_documents(std::string_view s) {
  std::vector<DocumentText> docs(1);
  std::size_t line_no = 0;
  while (!s.empty()) {
    const auto nl = s.find('\n');
    const std::string_view line = s.substr(0, nl == std::string_view::npos ? s.size() : nl + 1);
    s.remove_prefix(line.size());
    if (marker_line(line, "---")) {
      docs.push_back({std::string(line), line_no});
    } else if (marker_line(line, "...")) {
      docs.push_back({"", line_no + 1});
    } else {
      docs.back().text += line;
    }
    ++line_no;
  }
  return docs;
}

// Whether a document holds anything besides blank lines, comments, directives and its marker.
bool has_content(std::string_view doc) {
  while (!doc.empty()) {
    const auto nl = doc.find('\n');
    std::string_view line = doc.substr(0, nl);
    doc.remove_prefix(nl == std::string_view::npos ? doc.size() : nl + 1);
    if (line.starts_with('%')) continue;
    if (marker_line(line, "---")) line.remove_prefix(3);
    const auto first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#') return true;
  }
  return false;
}

std::string at_line(const YAML::Node& n, std::size_t line_offset) {
  const auto mark = n.Mark();
  if (mark.line < 0) return "";
  return " (line " + std::to_string(static_cast<std::size_t>(mark.line) + line_offset + 1) + ")";
}

// YAML streams are UTF-8 (YAML 1.2 §5.2); stored JSON must be too, so bad bytes stop here.
// Returns the offset of the first byte that is not part of valid UTF-8, or npos.
std::size_t first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const std::uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool valid_utf8(std::string_view s) { return first_invalid_utf8(s) == std::string_view::npos; }

// YAML 1.2 §5.1: a stream holds printable characters only (tab, line breaks and no other C0
// control). Checked before yaml-cpp sees the text: yaml-cpp 0.7 can loop forever on a NUL byte.
Status check_stream(std::string_view s) {
  const std::size_t bad_utf8 = first_invalid_utf8(s);
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    auto at = [&](const std::string& what) {
      return invalid("YAML: line " + std::to_string(line) + ", column " + std::to_string(i - line_start + 1) +
                     ": " + what);
    };
    if (i == bad_utf8) return at("the text is not valid UTF-8");
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    } else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(c));
      return at(std::string("the control character ") + hex + " is not allowed in YAML");
    }
  }
  return {};
}

json plain_scalar(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  auto parse_unsigned = [](std::string_view digits, int base) -> std::optional<std::uint64_t> {
    std::uint64_t v = 0;
    if (digits.empty()) return std::nullopt;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
    return v;
  };
  std::string_view v = s;
  if (v.starts_with("0x")) {
    if (auto n = parse_unsigned(v.substr(2), 16)) return *n;
    return s;
  }
  if (v.starts_with("0o")) {
    if (auto n = parse_unsigned(v.substr(2), 8)) return *n;
    return s;
  }
  bool negative = false;
  if (v.starts_with('-') || v.starts_with('+')) {
    negative = v.front() == '-';
    v.remove_prefix(1);
  }
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return s;
  }
  auto n = parse_unsigned(v, 10);
  if (!n) return s;  // too large for 64 bits: left as text, the field's decoder says what it wants
  if (!negative) return *n;
  if (*n > static_cast<std::uint64_t>(INT64_MAX)) return s;
  return -static_cast<std::int64_t>(*n);
}

class YamlToJson {
 public:
  explicit YamlToJson(std::size_t line_offset) : line_offset_(line_offset) {}

  Result<json> convert(const YAML::Node& n, const std::string& path, bool keep_text, int depth) {
    if (++values_ > kMaxYamlValues) {
      return invalid("the document holds more than " + std::to_string(kMaxYamlValues) + " values");
    }
    if (depth > kMaxYamlDepth) {
      return invalid((path.empty() ? std::string("the document") : path) + ": nested deeper than " +
                     std::to_string(kMaxYamlDepth) + " levels" + at_line(n, line_offset_));
    }
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json(nullptr);
      case YAML::NodeType::Scalar: {
        if (!valid_utf8(n.Scalar())) {
          return invalid((path.empty() ? std::string("the document") : path) + ": the value is not valid UTF-8" +
                         at_line(n, line_offset_));
        }
        const std::string& tag = n.Tag();
        const bool plain = tag == "?" || tag == "tag:yaml.org,2002:int" ||
                           tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null";
        if (keep_text || !plain) return json(n.Scalar());
        return plain_scalar(n.Scalar());
      }
      case YAML::NodeType::Sequence: {
        json out = json::array();
        std::size_t i = 0;
        for (const auto& item : n) {
          auto v = convert(item, path + "[" + std::to_string(i++) + "]", false, depth + 1);
          if (!v) return v.error();
          out.push_back(std::move(*v));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        json out = json::object();
        // Label and annotation values are strings: `rack: 0` means the label value "0".
        const bool text_values = path == "metadata.labels" || path == "metadata.annotations" ||
                                 path.ends_with("].metadata.labels") ||
                                 path.ends_with("].metadata.annotations");
        for (const auto& kv : n) {
          if (!kv.first.IsScalar()) {
            return invalid((path.empty() ? std::string("the document") : path) +
                           (kv.first.IsNull() ? ": an entry has no key"
                                              : ": a key must be a plain word, not a list or mapping") +
                           at_line(kv.first, line_offset_));
          }
          const std::string key = kv.first.Scalar();
          if (!valid_utf8(key)) {
            return invalid((path.empty() ? std::string("the document") : path) + ": a key is not valid UTF-8" +
                           at_line(kv.first, line_offset_));
          }
          const std::string child = join_path(path, key);
          if (out.contains(key)) return invalid("duplicate field " + child + at_line(kv.first, line_offset_));
          auto v = convert(kv.second, child, text_values, depth + 1);
          if (!v) return v.error();
          out[key] = std::move(*v);
        }
        return out;
      }
    }
    return json(nullptr);
  }

 private:
  std::size_t line_offset_;
  std::size_t values_ = 0;
};

}  // namespace

Status for_each_yaml_document(std::string_view yaml,
                              const std::function<Status(nlohmann::json doc, const std::string& where)>& each) {
  if (auto s = check_stream(yaml); !s) return s;
  std::size_t number = 0;  // of the non-empty documents, as a user counts them
  for (const auto& text : split_documents(yaml)) {
    YAML::Node node;
    Result<json> doc = json(nullptr);
    try {
      node = YAML::Load(text.text);
      if (node.IsNull() && !has_content(text.text)) continue;  // e.g. a trailing --- or only comments
      doc = YamlToJson(text.first_line).convert(node, "", false, 0);
    } catch (const YAML::ParserException& e) {
      return invalid("YAML syntax error at line " + std::to_string(e.mark.line + text.first_line + 1) +
                     ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
    } catch (const std::exception& e) {
      return invalid(std::string("YAML error: ") + e.what());
    }
    const std::string where = "document " + std::to_string(++number);
    if (!doc) return doc.error().within(where);
    if (auto s = each(std::move(*doc), where); !s) return s;
  }
  return {};
}

}  // namespace blockd::ipam
