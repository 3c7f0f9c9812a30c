#include "ipam/store/etcd_store.hpp"

#include <algorithm>
#include <charconv>

#include "ipam/store/base64.hpp"

namespace blockd::ipam {
namespace {

using nlohmann::json;

// The gateway writes int64 fields as JSON strings and leaves out zero values.
std::int64_t int_field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  return 0;
}

std::string bytes_field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return {};
  return base64_decode(it->get_ref<const std::string&>()).value_or(std::string{});
}

KeyValue key_value(const json& kv) {
  return {bytes_field(kv, "key"), bytes_field(kv, "value"), int_field(kv, "create_revision"), int_field(kv, "mod_revision")};
}

std::vector<KeyValue> key_values(const json& range) {
  std::vector<KeyValue> out;
  if (auto it = range.find("kvs"); it != range.end() && it->is_array()) {
    for (const auto& kv : *it) out.push_back(key_value(kv));
  }
  return out;
}

std::int64_t header_revision(const json& answer) {
  auto it = answer.find("header");
  return it == answer.end() ? 0 : int_field(*it, "revision");
}

// The end of the key range holding every key with this prefix: the prefix with its last byte
// below 0xff incremented (etcd's clientv3.GetPrefixRangeEnd); "\0" means "to the end".
std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last < 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');
}

json range_request(const std::string& key) { return {{"key", base64_encode(key)}}; }

json prefix_request(const std::string& prefix) {
  return {{"key", base64_encode(prefix.empty() ? std::string(1, '\0') : prefix)}, {"range_end", base64_encode(prefix_end(prefix))}};
}

}  // namespace

class EtcdStore::EtcdWatch : public Watch {
 public:
  EtcdWatch(std::shared_ptr<EtcdGateway> gateway, std::string prefix, std::int64_t after)
      : gateway_(std::move(gateway)), prefix_(std::move(prefix)), delivered_(after) {}

  Result<WatchBatch> next(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (!stream_) {
        // (Re)open from the revision after the last one delivered: nothing is lost or repeated.
        json req{{"create_request", prefix_request(prefix_)}};
        req["create_request"]["start_revision"] = std::to_string(delivered_ + 1);
        auto s = gateway_->stream("/v3/watch", req);
        if (!s) return s.error().within("watch on " + prefix_ + " from revision " + std::to_string(delivered_ + 1));
        stream_ = std::move(*s);
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      auto msg = stream_->next(std::max(left, std::chrono::milliseconds(0)));
      if (!msg) {
        // The connection dropped: resume once now on any member; if that fails too, say so and
        // resume on the next call.
        stream_.reset();
        if (resumed_) {
          resumed_ = false;
          return msg.error().within("watch on " + prefix_);
        }
        resumed_ = true;
        continue;
      }
      resumed_ = false;
      if (!msg->has_value()) return WatchBatch{{}, delivered_};
      const json& m = **msg;
      if (auto err = m.find("error"); err != m.end()) {
        stream_.reset();
        const auto& e = err->is_object() ? *err : json::object();
        const std::string message = e.value("message", err->dump());
        if (e.value("grpc_code", e.value("code", 0)) == 16) {  // Unauthenticated: the token expired
          if (auto r = gateway_->refresh_token(); !r) return r.error();
          continue;
        }
        return unavailable("watch on " + prefix_ + ": " + gateway_->describe() + " ended the stream: " + message);
      }
      const json& result = m.contains("result") ? m["result"] : m;
      if (const auto compacted = int_field(result, "compact_revision"); compacted > 0) {
        stream_.reset();
        return not_found("watch on " + prefix_ + " from revision " + std::to_string(delivered_ + 1) +
                         ": etcd compacted its history up to revision " + std::to_string(compacted) +
                         "; list again and watch from the listed revision");
      }
      if (result.value("canceled", false)) {
        stream_.reset();
        return unavailable("watch on " + prefix_ + ": " + gateway_->describe() + " canceled it: " +
                           result.value("cancel_reason", std::string("no reason given")));
      }
      WatchBatch batch;
      if (auto events = result.find("events"); events != result.end() && events->is_array()) {
        for (const auto& e : *events) {
          WatchEvent event;
          event.kind = e.value("type", std::string("PUT")) == "DELETE" ? WatchEvent::Kind::Delete : WatchEvent::Kind::Put;
          event.kv = key_value(e.contains("kv") ? e["kv"] : json::object());
          if (event.kind == WatchEvent::Kind::Delete) event.kv.create_revision = 0;
          delivered_ = std::max(delivered_, event.kv.mod_revision);
          batch.events.push_back(std::move(event));
        }
      }
      if (batch.events.empty()) continue;  // created, or a progress notice
      batch.revision = delivered_;
      return batch;
    }
  }

 private:
  std::shared_ptr<EtcdGateway> gateway_;
  std::string prefix_;
  std::int64_t delivered_;
  std::unique_ptr<EtcdStream> stream_;
  bool resumed_ = false;
};

Result<std::unique_ptr<EtcdStore>> EtcdStore::open(EtcdOptions options) {
  auto gateway = EtcdGateway::connect(std::move(options));
  if (!gateway) return gateway.error();
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(*gateway)));
}

Result<std::unique_ptr<EtcdStore>> EtcdStore::open(const std::string& url) {
  auto options = parse_etcd_url(url);
  if (!options) return options.error();
  return open(std::move(*options));
}

Result<std::optional<KeyValue>> EtcdStore::get(const std::string& key) {
  auto answer = gateway_->call("/v3/kv/range", range_request(key), Resend::Safe);
  if (!answer) return answer.error().within("get " + key);
  auto kvs = key_values(*answer);
  if (kvs.empty()) return std::optional<KeyValue>{};
  return std::optional<KeyValue>{std::move(kvs.front())};
}

Result<ListResult> EtcdStore::list(const std::string& prefix) {
  auto answer = gateway_->call("/v3/kv/range", prefix_request(prefix), Resend::Safe);
  if (!answer) return answer.error().within("list " + prefix);
  return ListResult{key_values(*answer), header_revision(*answer)};
}

Result<ListResult> EtcdStore::list_keys(const std::string& prefix) {
  auto req = prefix_request(prefix);
  req["keys_only"] = true;
  auto answer = gateway_->call("/v3/kv/range", req, Resend::Safe);
  if (!answer) return answer.error().within("list keys " + prefix);
  return ListResult{key_values(*answer), header_revision(*answer)};
}

Result<std::vector<ListResult>> EtcdStore::read_many(const std::vector<Read>& reads) {
  constexpr std::size_t kMaxReadsPerTransaction = 128;
  std::vector<ListResult> out;
  for (std::size_t first = 0; first < reads.size(); first += kMaxReadsPerTransaction) {
    const std::size_t end = std::min(reads.size(), first + kMaxReadsPerTransaction);
    json ranges = json::array();
    for (std::size_t i = first; i < end; ++i) {
      json range = reads[i].prefix ? prefix_request(reads[i].key) : range_request(reads[i].key);
      if (reads[i].keys_only) range["keys_only"] = true;
      ranges.push_back({{"request_range", std::move(range)}});
    }
    // No compare and only reads: etcd serves it as one linearizable read, not through raft.
    auto answer = gateway_->call("/v3/kv/txn", {{"success", std::move(ranges)}}, Resend::Safe);
    if (!answer) return answer.error().within("read of " + reads[first].key + (end - first > 1 ? " and more" : ""));
    const auto revision = header_revision(*answer);
    auto responses = answer->find("responses");
    if (responses == answer->end() || !responses->is_array() || responses->size() != end - first) {
      return internal(gateway_->describe() + " answered a read of " + std::to_string(end - first) +
                      " ranges with another number of results");
    }
    for (const auto& r : *responses) {
      auto range = r.find("response_range");
      out.push_back({range == r.end() ? std::vector<KeyValue>{} : key_values(*range), revision});
    }
  }
  return out;
}

Result<TransactionResult> EtcdStore::commit(const Transaction& txn) {
  json compare = json::array();
  json failure = json::array();
  for (const auto& c : txn.compares) {
    // mod_revision 0 compares equal for a missing key: "create only if absent".
    compare.push_back({{"key", base64_encode(c.key)}, {"target", "MOD"}, {"result", "EQUAL"},
                       {"mod_revision", std::to_string(c.mod_revision)}});
    failure.push_back({{"request_range", range_request(c.key)}});
  }
  for (const auto& u : txn.unchanged) {
    // A compare over a key range holds when it holds for every key in it (etcd 3.3+).
    json c = prefix_request(u.prefix);
    c["target"] = "MOD";
    c["result"] = "LESS";
    c["mod_revision"] = std::to_string(u.revision + 1);
    compare.push_back(std::move(c));
    json changed = prefix_request(u.prefix);
    changed["min_mod_revision"] = std::to_string(u.revision + 1);
    changed["keys_only"] = true;  // not count_only: etcd counts before it filters by revision
    failure.push_back({{"request_range", std::move(changed)}});
  }
  json success = json::array();
  for (const auto& op : txn.operations) {
    if (op.kind == Operation::Kind::Put) {
      success.push_back({{"request_put", {{"key", base64_encode(op.key)}, {"value", base64_encode(op.value)}}}});
    } else {
      success.push_back({{"request_delete_range", range_request(op.key)}});
    }
  }
  const json req{{"compare", compare}, {"success", success}, {"failure", failure}};
  auto answer = gateway_->call("/v3/kv/txn", req, txn.operations.empty() ? Resend::Safe : Resend::Unsafe);
  if (!answer) return answer.error().within("transaction on " + (txn.operations.empty() ? std::string("nothing") : txn.operations.front().key));
  TransactionResult result;
  result.succeeded = answer->value("succeeded", false);
  result.revision = header_revision(*answer);
  if (!result.succeeded) {
    // The failure branch's answers in order: one per compared key, then the keys written since under each prefix.
    if (auto responses = answer->find("responses"); responses != answer->end() && responses->is_array()) {
      for (std::size_t i = 0; i < responses->size(); ++i) {
        auto range = (*responses)[i].find("response_range");
        if (range == (*responses)[i].end()) continue;
        if (i < txn.compares.size()) {
          for (auto& kv : key_values(*range)) result.current.push_back(std::move(kv));
        } else if (!key_values(*range).empty()) {
          result.changed_since = true;
        }
      }
    }
  }
  return result;
}

Result<std::unique_ptr<Watch>> EtcdStore::watch(const std::string& prefix, std::int64_t after) {
  return std::unique_ptr<Watch>(std::make_unique<EtcdWatch>(gateway_, prefix, after));
}

}  // namespace blockd::ipam
