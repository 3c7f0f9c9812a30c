// blockctl's runtime commands: they ask the running agent over its control socket
// (agent/control_api.hpp) instead of reading the datastore.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>

#include "agent/blockctl/commands.hpp"
#include "agent/bounded_input.hpp"
#include "agent/control_api.hpp"
#include "agent/table.hpp"

namespace blockd::agent::blockctl {
namespace {

using json = nlohmann::json;

constexpr int kTimeoutMs = 10000;

// A table with +---+ borders, as `calicoctl node status` prints (headers centred, cells left).
class BorderedTable {
 public:
  explicit BorderedTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) {
    row.resize(headers_.size());
    rows_.push_back(std::move(row));
  }
  void print(std::ostream& os) const {
    std::vector<std::size_t> width(headers_.size());
    for (std::size_t i = 0; i < headers_.size(); ++i) {
      width[i] = headers_[i].size();
      for (const auto& r : rows_) width[i] = std::max(width[i], r[i].size());
    }
    std::string rule = "+";
    for (auto w : width) rule += std::string(w + 2, '-') + "+";
    os << rule << "\n|";
    for (std::size_t i = 0; i < headers_.size(); ++i) {
      const std::size_t pad = width[i] - headers_[i].size();
      os << std::string(1 + pad / 2, ' ') << headers_[i] << std::string(1 + pad - pad / 2, ' ') << "|";
    }
    os << "\n" << rule << "\n";
    for (const auto& r : rows_) {
      os << "|";
      for (std::size_t i = 0; i < r.size(); ++i) os << ' ' << r[i] << std::string(width[i] - r[i].size() + 1, ' ') << "|";
      os << "\n";
    }
    os << rule << "\n";
  }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// One JSON value as a table cell; lists joined by `separator`.
std::string cell(const json& v, const char* separator = ",") {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : separator) + cell(e, separator);
    return out;
  }
  return v.dump();
}

std::string field(const json& obj, const char* name, const char* separator = ",") {
  if (!obj.is_object() || !obj.contains(name)) return "";
  return cell(obj[name], separator);
}

// BIRD prints when a protocol changed state: the time of day when it was today, else the date.
std::string since_text(const json& seconds, std::chrono::system_clock::time_point now) {
  if (!seconds.is_number()) return "";
  const auto at = now - std::chrono::seconds(static_cast<long long>(seconds.get<double>()));
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  const std::time_t n = std::chrono::system_clock::to_time_t(now);
  std::tm at_tm{}, now_tm{};
  gmtime_r(&t, &at_tm);
  gmtime_r(&n, &now_tm);
  char buf[32];
  const bool today = at_tm.tm_year == now_tm.tm_year && at_tm.tm_yday == now_tm.tm_yday;
  std::strftime(buf, sizeof buf, today ? "%H:%M:%S" : "%Y-%m-%d", &at_tm);
  return buf;
}

// Calico's names: "global" (a BGPPeer for every node), "node specific" (a BGPPeer for selected
// nodes), and ours, "config" (a peer in blockd's config file).
std::string peer_type(const json& peer) {
  if (peer.contains("peerType") && peer["peerType"].is_string()) return peer["peerType"].get<std::string>();
  const std::string source = field(peer, "source");
  if (source == "config") return "config";
  return "node specific";
}

void print_peers(const json& peers, bool v6, std::chrono::system_clock::time_point now, std::ostream& out) {
  out << (v6 ? "IPv6" : "IPv4") << " BGP status\n";
  auto in_family = [&](const json& p) { return (field(p, "address").find(':') != std::string::npos) == v6; };
  // A BFD column (the session's RFC 5880 state, "-" for a peer without BFD) only when a peer of
  // the family has BFD, so the table is calicoctl's otherwise.
  const bool any_bfd = std::any_of(peers.begin(), peers.end(), [&](const json& p) {
    return in_family(p) && p.contains("bfd") && p["bfd"].is_string();
  });
  std::vector<std::string> columns = {"PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"};
  if (any_bfd) columns.insert(columns.begin() + 3, "BFD");
  BorderedTable t(columns);
  std::size_t n = 0;
  for (const auto& p : peers) {
    const std::string address = field(p, "address");
    if (!in_family(p)) continue;
    const std::string state = field(p, "state");
    const std::string error = field(p, "lastError");
    const bool up = state == "Established";
    // BIRD's protocol states: "up" once Established, "start" while trying.
    const std::string info = up ? state : error.empty() ? state : state + " " + error;
    // "refused": blockd will not peer with it (the INFO says which rule it breaks).
    const std::string bird_state = up ? "up" : state == "Refused" ? "refused" : "start";
    std::vector<std::string> row = {address, peer_type(p), bird_state, up ? since_text(p.value("since", json()), now) : "",
                                    info};
    if (any_bfd) row.insert(row.begin() + 3, p.contains("bfd") && p["bfd"].is_string() ? p["bfd"].get<std::string>() : "-");
    t.add(row);
    ++n;
  }
  if (n == 0) {
    out << "No " << (v6 ? "IPv6" : "IPv4") << " peers found.\n";
  } else {
    t.print(out);
  }
  out << "\n";
}

std::string plural(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

Result<std::string> control_socket(const std::string& flag, const std::string& config) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("BLOCKD_SOCKET"); env && *env) return std::string(env);
  if (!config.empty()) {
    auto text = read_file_bounded(config, kMaxConfigFileBytes, "--config " + config);
    if (!text) return text.error();
    try {
      const YAML::Node doc = YAML::Load(*text);
      const YAML::Node control = doc["control"];
      if (control && control.IsMap() && control["socket"]) return control["socket"].as<std::string>();
    } catch (const std::exception& e) {
      return invalid("--config " + config + ": " + e.what());
    }
  }
  return std::string(kDefaultControlSocket);
}

void print_node_status(const json& status, const json& peers, std::chrono::system_clock::time_point now,
                       std::ostream& out) {
  out << "blockd process is running.\n\n";
  const json list = peers.is_array() ? peers : json::array();
  print_peers(list, false, now, out);
  print_peers(list, true, now, out);
  if (status.is_object() && status.contains("warnings") && status["warnings"].is_array()) {
    for (const auto& w : status["warnings"]) out << "warning: " << cell(w) << "\n";
  }
}

Status node_status(const std::string& socket, std::ostream& out) {
  ControlClient client(socket, kTimeoutMs);
  auto status = client.get("/v1/status");
  if (!status) {
    if (status.error().code == ErrorCode::Unavailable) out << "blockd process is not running.\n";
    return status.error();
  }
  auto peers = client.get("/v1/peers");
  if (!peers) return peers.error();
  if (!peers->is_array()) return internal("blockd answered /v1/peers with something other than a list");
  print_node_status(*status, *peers, std::chrono::system_clock::now(), out);
  return {};
}

Status print_routes(const std::string& which, const json& answer, OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::Yaml) return invalid("routes: -o takes wide or json");
  if (format == OutputFormat::Json) {
    out << answer.dump(2) << "\n";
    return {};
  }
  // advertised is {"routes": [...], "workloads": M}; a bare list is accepted too.
  const json& routes = answer.is_object() ? answer.value("routes", json()) : answer;
  if (!routes.is_array()) return internal("blockd's answer for " + which + " routes holds no list of routes");
  const bool wide = format == OutputFormat::Wide;
  std::vector<std::string> headers;
  std::vector<std::pair<const char*, const char*>> columns;  // field, list separator
  if (which == "advertised") {
    headers = {"PREFIX", "NEXT HOP", "KIND"};
    columns = {{"prefix", ","}, {"nextHop", ","}, {"kind", ","}};
    if (wide) {
      headers.push_back("COMMUNITIES");
      columns.push_back({"communities", ","});
    }
  } else if (which == "received") {
    headers = {"PREFIX", "NEXT HOP", "PEER", "AS PATH"};
    columns = {{"prefix", ","}, {"nextHop", ","}, {"peer", ","}, {"asPath", " "}};
    if (wide) {
      headers.push_back("STALE");
      columns.push_back({"stale", ","});
    }
  } else if (which == "kernel") {
    headers = {"PREFIX", "KIND", "VIA", "DEVICE"};
    columns = {{"prefix", ","}, {"kind", ","}, {"via", ","}, {"device", ","}};
    if (wide) {
      headers.insert(headers.end(), {"ONLINK", "PROTOCOL"});
      columns.insert(columns.end(), {{"onlink", ","}, {"protocol", ","}});
    }
  } else {
    return invalid("routes " + which + ": expected advertised, received or kernel");
  }
  if (routes.empty()) {
    out << "No " << which << " routes.\n";
  } else {
    Table t(headers);
    for (const auto& r : routes) {
      std::vector<std::string> row;
      for (const auto& [name, separator] : columns) row.push_back(field(r, name, separator));
      t.add(std::move(row));
    }
    t.print(out);
  }
  if (which == "advertised" && answer.is_object() && answer.contains("workloads") && answer["workloads"].is_number_integer() &&
      answer["workloads"].get<long long>() >= 0) {
    // The point of block aggregation: one prefix per block instead of one per workload.
    const auto workloads = answer["workloads"].get<std::size_t>();
    out << "\n"
        << plural(routes.size(), "route", "routes") << " advertised for "
        << plural(workloads, "workload address", "workload addresses") << " (a /32-per-workload design would need "
        << workloads << ")\n";
  }
  return {};
}

Status routes(const std::string& socket, const std::string& which, OutputFormat format, std::ostream& out) {
  if (which != "advertised" && which != "received" && which != "kernel") {
    return invalid("routes " + which + ": expected advertised, received or kernel");
  }
  if (format == OutputFormat::Yaml) return invalid("routes: -o takes wide or json");
  ControlClient client(socket, kTimeoutMs);
  auto answer = client.get("/v1/routes/" + which);
  if (!answer) return answer.error();
  return print_routes(which, *answer, format, out);
}

}  // namespace blockd::agent::blockctl
