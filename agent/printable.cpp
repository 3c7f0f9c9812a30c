#include "agent/printable.hpp"

namespace blockd::agent {
namespace {

bool is_c0(unsigned char c) { return c < 0x20 || c == 0x7f; }
// U+0080..U+009F in UTF-8: 0xC2 then 0x80..0x9F.
bool is_c1_at(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]) == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
         static_cast<unsigned char>(s[i + 1]) <= 0x9f;
}

}  // namespace

bool has_control_characters(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_c0(static_cast<unsigned char>(text[i])) || is_c1_at(text, i)) return true;
  }
  return false;
}

std::string printable(std::string_view text) {
  if (!has_control_characters(text)) return std::string(text);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (is_c1_at(text, i)) {
      const auto d = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += hex[d >> 4];
      out += hex[d & 15];
    } else if (!is_c0(c)) {
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace blockd::agent
