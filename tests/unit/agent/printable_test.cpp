// Control characters from users and peers never reach a terminal or the log raw.
#include "agent/printable.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "agent/table.hpp"

namespace blockd::agent {
namespace {

TEST(Printable, EscapesC0C1AndDelAndKeepsTheRest) {
  const std::pair<std::string, std::string> cases[] = {
      {"rack == \"0\"", "rack == \"0\""},
      {"h\x1b[31mred", "h\\x1b[31mred"},
      {"line\nforged", "line\\nforged"},
      {"a\rb\tc", "a\\rb\\tc"},
      {std::string("nul\0x", 5), "nul\\x00x"},
      {"del\x7f", "del\\x7f"},
      {"csi\xc2\x9b" "31m", "csi\\u009b31m"},       // U+009B, the 8-bit CSI
      {"caf\xc3\xa9 \xe2\x80\x94", "caf\xc3\xa9 \xe2\x80\x94"},  // UTF-8 text stays
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(printable(in), out);
    EXPECT_EQ(has_control_characters(in), in != out) << in;
  }
}

TEST(Printable, TableCellsAreEscaped) {
  Table t({"HANDLE", "ADDRESS"});
  t.add({"net.\x1b[2Jc1\nnode-b   192.168.9.9", "192.168.0.5"});
  std::ostringstream out;
  t.print(out);
  const std::string printed = out.str();
  EXPECT_EQ(printed.find('\x1b'), std::string::npos) << printed;
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 2) << "one line per row: " << printed;
}

}  // namespace
}  // namespace blockd::agent
