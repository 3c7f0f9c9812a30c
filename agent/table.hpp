// Column-aligned tables, as calicoctl and kubectl print them (upper-case headers, three spaces).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace blockd::agent {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : rows_{std::move(headers)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::size_t size() const { return rows_.size() - 1; }
  void print(std::ostream& os) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace blockd::agent
