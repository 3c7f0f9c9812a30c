#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "agent/blockctl/commands.hpp"
#include "agent/bounded_input.hpp"
#include "agent/node_handles.hpp"
#include "agent/table.hpp"
#include "ipam/block.hpp"
#include "ipam/keys.hpp"
#include "ipam/node_release.hpp"
#include "ipam/pool_selection.hpp"
#include "ipam/resources/resource_codec.hpp"
#include "ipam/resources/validation.hpp"

namespace blockd::agent::blockctl {
namespace {

using namespace blockd::ipam;

Result<std::vector<Resource>> read_resources(const std::string& file) {
  auto text = read_file_bounded(file, kMaxResourceFileBytes, file == "-" ? "stdin" : file);
  if (!text) return text.error();
  auto resources = parse_resources_yaml(*text);
  if (!resources) return resources.error().within(file == "-" ? "stdin" : file);
  if (resources->empty()) return invalid((file == "-" ? std::string("stdin") : file) + ": no resources in the input");
  return resources;
}

// "Successfully created 2 'IPPool' resource(s)" per kind, as calicoctl says it.
void report(std::ostream& out, const char* verb, const std::vector<Resource>& done) {
  std::map<std::string, int> per_kind;
  for (const auto& r : done) ++per_kind[kind_of(r)];
  for (const auto& [kind, n] : per_kind) {
    out << "Successfully " << verb << " " << n << " '" << kind << "' resource(s)\n";
  }
}

std::string yes_no(bool b) { return b ? "true" : "false"; }

void print_table(const std::string& kind, const std::vector<Resource>& items, bool wide, std::ostream& out) {
  if (kind == "IPPool") {
    Table t(wide ? std::vector<std::string>{"NAME", "CIDR", "NAT", "IPIPMODE", "VXLANMODE", "DISABLED", "SELECTOR"}
                 : std::vector<std::string>{"NAME", "CIDR", "SELECTOR"});
    for (const auto& r : items) {
      const auto& p = std::get<IPPool>(r);
      if (wide) {
        t.add({p.name, p.cidr.str(), yes_no(p.nat_outgoing), encap_mode_name(p.ipip_mode),
               encap_mode_name(p.vxlan_mode), yes_no(p.disabled), p.node_selector});
      } else {
        t.add({p.name, p.cidr.str(), p.node_selector});
      }
    }
    t.print(out);
  } else if (kind == "Node") {
    Table t(wide ? std::vector<std::string>{"NAME", "ASN", "IPV4", "IPV6", "LABELS"} : std::vector<std::string>{"NAME"});
    for (const auto& r : items) {
      const auto& n = std::get<Node>(r);
      if (wide) {
        t.add({n.name, n.as_number ? std::to_string(*n.as_number) : "(64512)",
               n.ipv4_address ? n.ipv4_address->str() : "", n.ipv6_address ? n.ipv6_address->str() : "",
               format_labels(n.labels)});
      } else {
        t.add({n.name});
      }
    }
    t.print(out);
  } else if (kind == "BGPPeer") {
    Table t(wide ? std::vector<std::string>{"NAME", "PEERIP", "NODE", "ASN", "PASSWORD"}
                 : std::vector<std::string>{"NAME", "PEERIP", "NODE", "ASN"});
    for (const auto& r : items) {
      const auto& p = std::get<BGPPeer>(r);
      const std::string node = !p.node.empty() ? p.node : (!p.node_selector.empty() ? p.node_selector : "(global)");
      std::vector<std::string> row{p.name, p.peer_selector.empty() ? p.peer_ip.str() : "(" + p.peer_selector + ")", node,
                                   p.peer_selector.empty() ? std::to_string(p.as_number) : "(node's)"};
      if (wide) row.push_back(p.password.empty() ? "" : "(set)");
      t.add(row);
    }
    t.print(out);
  } else if (kind == "IPReservation") {
    Table t({"NAME", "RESERVEDCIDRS"});
    for (const auto& r : items) {
      const auto& res = std::get<IPReservation>(r);
      std::string cidrs;
      for (const auto& p : res.reserved_cidrs) cidrs += (cidrs.empty() ? "" : ",") + p.str();
      t.add({res.name, cidrs});
    }
    t.print(out);
  } else if (kind == "IPAMConfiguration") {
    Table t({"NAME", "STRICTAFFINITY", "MAXBLOCKSPERHOST", "AUTOALLOCATEBLOCKS"});
    for (const auto& r : items) {
      const auto& c = std::get<IPAMConfiguration>(r);
      t.add({c.name, yes_no(c.strict_affinity), std::to_string(c.max_blocks_per_host), yes_no(c.auto_allocate_blocks)});
    }
    t.print(out);
  } else if (kind == "BGPFilter") {
    Table t({"NAME", "EXPORTV4", "EXPORTV6", "IMPORTV4", "IMPORTV6"});
    for (const auto& r : items) {
      const auto& f = std::get<BGPFilter>(r);
      t.add({f.name, std::to_string(f.export_rules.v4.size()), std::to_string(f.export_rules.v6.size()),
             std::to_string(f.import_rules.v4.size()), std::to_string(f.import_rules.v6.size())});
    }
    t.print(out);
  } else {
    Table t({"NAME", "ASN", "LISTENPORT", "MESH", "LOGSEVERITY"});
    for (const auto& r : items) {
      const auto& c = std::get<BGPConfiguration>(r);
      t.add({c.name, c.as_number ? std::to_string(*c.as_number) : "", c.listen_port ? std::to_string(*c.listen_port) : "",
             c.node_to_node_mesh_enabled ? yes_no(*c.node_to_node_mesh_enabled) : "", c.log_severity_screen});
    }
    t.print(out);
  }
}

Status get_workloads(Datastore& store, const std::optional<std::string>& name, OutputFormat format, std::ostream& out) {
  auto blocks = store.list(keys::kBlocks);
  if (!blocks) return blocks.error();
  nlohmann::json items = nlohmann::json::array();
  Table t(format == OutputFormat::Wide ? std::vector<std::string>{"WORKLOAD", "NODE", "ADDRESS", "BLOCK", "BORROWED"}
                                       : std::vector<std::string>{"WORKLOAD", "NODE", "ADDRESS"});
  for (const auto& kv : blocks->kvs) {
    auto block = AllocationBlock::from_json(kv.value);
    if (!block) return block.error().within(kv.key);
    for (const auto& [ordinal, a] : block->allocations()) {
      if (name && a.handle != *name) continue;
      const bool borrowed = a.node != block->affinity();
      const std::string address = block->cidr().at(ordinal).str();
      items.push_back({{"workload", a.handle}, {"node", a.node}, {"address", address},
                       {"block", block->cidr().str()}, {"borrowed", borrowed}});
      if (format == OutputFormat::Wide) {
        t.add({a.handle, a.node, address, block->cidr().str(), borrowed ? "yes" : "no"});
      } else {
        t.add({a.handle, a.node, address});
      }
    }
  }
  if (name && items.empty()) return not_found("workload " + *name + " has no address");
  if (format == OutputFormat::Json) {
    out << items.dump(2) << '\n';
  } else if (format == OutputFormat::Yaml) {
    for (const auto& i : items) {
      out << "- workload: " << i["workload"].get<std::string>() << "\n  node: " << i["node"].get<std::string>()
          << "\n  address: " << i["address"].get<std::string>() << "\n  block: " << i["block"].get<std::string>()
          << "\n  borrowed: " << (i["borrowed"].get<bool>() ? "true" : "false") << '\n';
    }
  } else {
    t.print(out);
  }
  return {};
}

}  // namespace

Result<OutputFormat> parse_output_format(const std::string& text) {
  if (text.empty() || text == "table" || text == "ps") return OutputFormat::Table;
  if (text == "wide") return OutputFormat::Wide;
  if (text == "yaml") return OutputFormat::Yaml;
  if (text == "json") return OutputFormat::Json;
  return invalid("-o " + text + ": unknown output format (expected wide, yaml or json)");
}

Status apply_file(Datastore& store, const std::string& file, WriteMode mode, std::ostream& out) {
  auto resources = read_resources(file);
  if (!resources) return resources.error();
  ResourceStore rs(store);
  const char* verb = mode == WriteMode::Create ? "created" : mode == WriteMode::Apply ? "applied" : "replaced";
  std::vector<Resource> done;
  for (const auto& r : *resources) {
    if (auto ok = rs.write(r, mode); !ok) {
      report(out, verb, done);
      return ok.error();
    }
    done.push_back(r);
  }
  report(out, verb, done);
  return {};
}

Status release_node(Datastore& store, const std::string& node, bool force, std::ostream& out) {
  auto released = release_node_ipam(store, node, {[&](const std::string& h) { return is_node_own(h, node); }, force});
  if (!released) return released.error();
  for (const auto& r : released->released) {
    out << "Released " << r.address.str() << " (handle " << r.allocation.handle << ")\n";
  }
  for (const auto& b : released->blocks_released) out << "Released block " << b.str() << " of node " << node << '\n';
  for (const auto& b : released->blocks_unaffined) {
    out << "Block " << b.str() << " is no longer node " << node << "'s (other nodes still hold addresses in it)\n";
  }
  return {};
}

namespace {

// calicoctl's node deletion: the node's IPAM first (refused while workloads hold addresses,
// unless forced), then the resource.
Status remove_resource(Datastore& store, const std::string& kind, const std::string& name, bool force,
                       std::ostream& out) {
  ResourceStore rs(store);
  if (kind == "Node") {
    auto exists = rs.get(kind, name);
    if (!exists) return exists.error();
    if (!exists->has_value()) return not_found("Node " + name + " does not exist");
    if (auto ok = release_node(store, name, force, out); !ok) return ok;
  }
  return rs.remove(kind, name);
}

}  // namespace

Status delete_file(Datastore& store, const std::string& file, bool force, std::ostream& out) {
  auto resources = read_resources(file);
  if (!resources) return resources.error();
  std::vector<Resource> done;
  for (const auto& r : *resources) {
    if (auto ok = remove_resource(store, kind_of(r), name_of(r), force, out); !ok) {
      report(out, "deleted", done);
      return ok.error();
    }
    done.push_back(r);
  }
  report(out, "deleted", done);
  return {};
}

Status delete_named(Datastore& store, const std::string& kind_word, const std::string& name, bool force,
                    std::ostream& out) {
  auto kind = canonical_kind(kind_word);
  if (!kind) return kind.error();
  if (*kind == "Workload") return invalid("workloads are released with `blockctl ipam release --handle`");
  if (auto ok = remove_resource(store, *kind, name, force, out); !ok) return ok.error();
  out << "Successfully deleted 1 '" << *kind << "' resource(s)\n";
  return {};
}

Status get(Datastore& store, const std::string& kind_word, const std::optional<std::string>& name, OutputFormat format,
           std::ostream& out) {
  auto kind = canonical_kind(kind_word);
  if (!kind) return kind.error();
  if (*kind == "Workload") return get_workloads(store, name, format, out);
  ResourceStore rs(store);
  std::vector<Resource> items;
  if (name) {
    auto r = rs.get(*kind, *name);
    if (!r) return r.error();
    if (!r->has_value()) return not_found(*kind + " " + *name + " does not exist");
    items.push_back(**r);
  } else {
    auto l = rs.list(*kind);
    if (!l) return l.error();
    items = std::move(*l);
  }
  switch (format) {
    case OutputFormat::Table:
    case OutputFormat::Wide:
      print_table(*kind, items, format == OutputFormat::Wide, out);
      break;
    case OutputFormat::Json:
    case OutputFormat::Yaml: {
      nlohmann::json doc;
      if (name) {
        doc = resource_to_json(items.front());
      } else {
        // calicoctl prints a <Kind>List for a list.
        doc = {{"apiVersion", "projectcalico.org/v3"}, {"kind", *kind + "List"}, {"items", nlohmann::json::array()}};
        for (const auto& r : items) doc["items"].push_back(resource_to_json(r));
      }
      if (format == OutputFormat::Json) {
        out << doc.dump(2) << '\n';
      } else if (name) {
        out << resource_to_yaml(items.front());
      } else {
        out << "apiVersion: projectcalico.org/v3\nkind: " << *kind << "List\nitems:\n";
        for (const auto& r : items) {
          std::istringstream lines(resource_to_yaml(r));
          std::string line;
          bool first = true;
          while (std::getline(lines, line)) {
            if (line == "---") continue;
            out << (first ? "- " : "  ") << line << '\n';
            first = false;
          }
        }
      }
      break;
    }
  }
  return {};
}

Status label_node(Datastore& store, const std::string& node_name, const std::vector<std::string>& changes,
                  bool overwrite, std::ostream& out) {
  if (changes.empty()) return invalid("label: give at least one key=value or key-");
  ResourceStore rs(store);
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto node = rs.node(node_name);
    if (!node) return node.error();
    Node updated = *node;
    for (const auto& c : changes) {
      if (c.size() > 1 && c.back() == '-' && c.find('=') == std::string::npos) {
        const std::string key = c.substr(0, c.size() - 1);
        if (!updated.labels.erase(key)) return not_found("node " + node_name + " has no label " + key);
        continue;
      }
      const auto eq = c.find('=');
      if (eq == std::string::npos || eq == 0) {
        return invalid("label \"" + c + "\": expected key=value to set or key- to remove");
      }
      const std::string key = c.substr(0, eq), value = c.substr(eq + 1);
      auto it = updated.labels.find(key);
      if (it != updated.labels.end() && it->second != value && !overwrite) {
        return invalid("node " + node_name + ": label " + key + " already has a value (" + it->second +
                       "); use --overwrite to change it");
      }
      updated.labels[key] = value;
    }
    // Replace under compare-and-swap on the stored node: a concurrent edit makes us re-read.
    auto kv = store.get(keys::resource_folder("Node") + node_name);
    if (!kv) return kv.error();
    if (!kv->has_value()) return not_found("node " + node_name + " does not exist");
    Resource r = updated;
    if (auto ok = validate(r); !ok) return ok.error();
    auto result = store.commit({{{(*kv)->key, (*kv)->mod_revision}},
                                {Operation::put((*kv)->key, resource_to_json(r).dump())}});
    if (!result) return result.error();
    if (result->succeeded) {
      out << "Successfully updated labels of node " << node_name << " (" << format_labels(updated.labels) << ")\n";
      return {};
    }
  }
  return unavailable("node " + node_name + " kept changing while being labelled; try again");
}

}  // namespace blockd::agent::blockctl
