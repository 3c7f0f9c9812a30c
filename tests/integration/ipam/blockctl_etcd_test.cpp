// blockctl against etcd, with no agent running: the same commands as on SQLite, by URL.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/integration/ipam/etcd_cluster.hpp"

namespace blockd::ipam::testing {
namespace {

struct Run {
  int status = -1;
  std::string out;  // stdout and stderr
};

Run blockctl(const std::string& args) {
  const std::string cmd = std::string(BLOCKD_BLOCKCTL) + " " + args + " 2>&1";
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) r.out += buf;
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

const std::string kExamples = BLOCKD_SOURCE_DIR "/examples/rack-tutorial/";

TEST(BlockctlOnEtcd, CreatesAllocatesReleasesAndChecks) {
  EtcdCluster etcd(1);
  const std::string ds = "--datastore " + etcd.url() + " ";
  auto pools = blockctl(ds + "create -f " + kExamples + "default-pool.yaml");
  ASSERT_EQ(pools.status, 0) << pools.out;
  auto nodes = blockctl(ds + "create -f " + kExamples + "nodes.yaml");
  ASSERT_EQ(nodes.status, 0) << nodes.out;
  auto listed = blockctl(ds + "get ippools");
  ASSERT_EQ(listed.status, 0) << listed.out;
  EXPECT_NE(listed.out.find("default-ipv4-ippool"), std::string::npos) << listed.out;

  auto a = blockctl(ds + "ipam allocate --node kube-node-0 --handle w1");
  auto b = blockctl(ds + "ipam allocate --node kube-node-0 --handle w2");
  ASSERT_EQ(a.status, 0) << a.out;
  ASSERT_EQ(b.status, 0) << b.out;
  EXPECT_NE(a.out, b.out);
  auto released = blockctl(ds + "ipam release --handle w1");
  ASSERT_EQ(released.status, 0) << released.out;
  auto check = blockctl(ds + "ipam check");
  EXPECT_EQ(check.status, 0) << check.out;
  EXPECT_NE(check.out.find("1 allocated"), std::string::npos) << check.out;
}

// The lifecycle commands exit 1 naming what is wrong, and do the IPAM cleanup Calico does.
TEST(BlockctlOnEtcd, PoolAndNodeLifecycle) {
  EtcdCluster etcd(1);
  const std::string ds = "--datastore " + etcd.url() + " ";
  ASSERT_EQ(blockctl(ds + "create -f " + kExamples + "default-pool.yaml").status, 0);
  ASSERT_EQ(blockctl(ds + "create -f " + kExamples + "nodes.yaml").status, 0);
  auto pod = blockctl(ds + "ipam allocate --node kube-node-0 --handle pod-a");
  ASSERT_EQ(pod.status, 0) << pod.out;
  ASSERT_EQ(blockctl(ds + "ipam allocate --node kube-node-0 --handle vxlan-tunnel-addr.kube-node-0").status, 0);

  const std::string moved_pool = ::testing::TempDir() + "moved-pool-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(moved_pool) << "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: "
                               "default-ipv4-ippool}\nspec: {cidr: 10.0.0.0/16}\n";
  auto moved = blockctl(ds + "apply -f " + moved_pool);
  std::remove(moved_pool.c_str());
  EXPECT_EQ(moved.status, 1) << moved.out;
  EXPECT_NE(moved.out.find("IPPool default-ipv4-ippool: spec.cidr: cannot be modified"), std::string::npos)
      << moved.out;

  auto refused = blockctl(ds + "delete node kube-node-0");
  EXPECT_EQ(refused.status, 1) << refused.out;
  EXPECT_NE(refused.out.find("node kube-node-0 still has workloads holding addresses: pod-a (" +
                             pod.out.substr(0, pod.out.size() - 1) + ")"),
            std::string::npos)
      << refused.out;
  auto forced = blockctl(ds + "delete node kube-node-0 --force");
  EXPECT_EQ(forced.status, 0) << forced.out;
  EXPECT_NE(forced.out.find("(handle vxlan-tunnel-addr.kube-node-0)"), std::string::npos) << forced.out;
  EXPECT_NE(forced.out.find("Successfully deleted 1 'Node' resource(s)"), std::string::npos) << forced.out;
  EXPECT_EQ(blockctl(ds + "get workload pod-a").status, 1);

  ASSERT_EQ(blockctl(ds + "ipam allocate --node kube-node-1 --handle pod-b").status, 0);
  auto deleted = blockctl(ds + "delete ippool default-ipv4-ippool");
  EXPECT_EQ(deleted.status, 0) << deleted.out;
  auto check = blockctl(ds + "ipam check");
  EXPECT_EQ(check.status, 0) << check.out;
  EXPECT_NE(check.out.find("1 allocated"), std::string::npos) << check.out;  // pod-b's block stays
  ASSERT_EQ(blockctl(ds + "ipam release --handle pod-b").status, 0);
  check = blockctl(ds + "ipam check");
  EXPECT_NE(check.out.find("Checked 0 blocks"), std::string::npos) << check.out;  // and goes when empty
}

TEST(BlockctlOnEtcd, AnUnreachableEtcdIsAnEnvironmentFailureNamingIt) {
  const std::string url = "etcd://127.0.0.1:" + std::to_string(EtcdCluster::free_port());
  auto r = blockctl("--datastore " + url + " get ippools");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find(url + " unavailable"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Connection refused"), std::string::npos) << r.out;
}

TEST(BlockctlOnEtcd, APasswordInTheUrlIsRefused) {
  auto r = blockctl("--datastore 'etcd://127.0.0.1:2379?username=u&password=p' get ippools");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("BLOCKD_ETCD_PASSWORD"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace blockd::ipam::testing
