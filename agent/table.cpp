#include "agent/table.hpp"

#include <algorithm>

#include "agent/printable.hpp"

namespace blockd::agent {

void Table::print(std::ostream& os) const {
  // Cells come from the store and from peers: a handle or selector can carry ESC or newline.
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : rows_) {
    auto& shown = rows.emplace_back();
    for (const auto& cell : row) shown.push_back(printable(cell));
  }
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    os << line << '\n';
  }
}

}  // namespace blockd::agent
