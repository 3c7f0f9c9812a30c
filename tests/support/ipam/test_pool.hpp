// The pool the allocation tests share: 10.10.0.0/16 in /26 blocks, selecting every node.
#pragma once

#include "ipam/resources/resources.hpp"

namespace blockd::ipam::testing {

inline IPPool test_pool() {
  IPPool p;
  p.name = "p";
  p.cidr = Prefix::parse("10.10.0.0/16").value();
  p.block_size = 26;
  return p;
}

}  // namespace blockd::ipam::testing
