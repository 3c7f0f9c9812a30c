#include "ipam/store/datastore.hpp"

#include "ipam/store/etcd_store.hpp"
#include "ipam/store/memory_store.hpp"
#include "ipam/store/sqlite_store.hpp"

namespace blockd::ipam {

Result<std::vector<ListResult>> Datastore::read_many(const std::vector<Read>& reads) {
  std::vector<ListResult> out;
  for (const auto& r : reads) {
    if (r.prefix) {
      auto listed = r.keys_only ? list_keys(r.key) : list(r.key);
      if (!listed) return listed.error();
      out.push_back(std::move(*listed));
      continue;
    }
    auto kv = get(r.key);
    if (!kv) return kv.error();
    ListResult one;
    if (*kv) one.kvs.push_back(std::move(**kv));
    out.push_back(std::move(one));
  }
  return out;
}

Result<std::unique_ptr<Datastore>> open_datastore(const std::string& url) {
  if (url.starts_with("sqlite://")) {
    const std::string path = url.substr(9);
    if (path.empty() || path.front() != '/') {
      return invalid("datastore \"" + url + "\": a sqlite URL needs an absolute path (sqlite:///var/lib/blockd/blockd.db)");
    }
    auto store = SqliteStore::open(path);
    if (!store) return store.error();
    return std::unique_ptr<Datastore>(std::move(*store));
  }
  if (url == "memory://") return std::unique_ptr<Datastore>(std::make_unique<MemoryStore>());
  if (url.starts_with("etcd://")) {
    auto store = EtcdStore::open(url);
    if (!store) return store.error();
    return std::unique_ptr<Datastore>(std::move(*store));
  }
  return invalid("datastore \"" + url + "\": unknown scheme (expected sqlite:///path or etcd://host:port[,host:port])");
}

}  // namespace blockd::ipam
