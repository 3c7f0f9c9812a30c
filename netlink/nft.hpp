// nftables commands through libnftables, as `nft` runs them: a script is one transaction.
// The interface lets the NAT table's logic be unit-tested against a scripted fake; the real
// one is tested in a network namespace.
#pragma once

#include <memory>
#include <string>

#include "ipam/net/result.hpp"

struct nft_ctx;

namespace blockd::netlink {

class Nft {
 public:
  virtual ~Nft() = default;
  // Runs `script` (nft syntax, commands separated by newlines) and returns what nft printed,
  // in JSON when `json_output`. A refusal is an error carrying nft's message and the script.
  virtual Result<std::string> run(const std::string& script, bool json_output) = 0;
};

class Libnftables final : public Nft {
 public:
  // A context whose netlink socket lives in the calling thread's network namespace.
  static Result<std::unique_ptr<Libnftables>> open();
  ~Libnftables() override;
  Libnftables(const Libnftables&) = delete;
  Libnftables& operator=(const Libnftables&) = delete;

  Result<std::string> run(const std::string& script, bool json_output) override;

 private:
  explicit Libnftables(nft_ctx* ctx) : ctx_(ctx) {}
  nft_ctx* ctx_;
};

}  // namespace blockd::netlink
