// blockd's devices on the real kernel, in a namespace of their own: the VXLAN device is
// created as configured, kept when it already is, recreated when an immutable parameter
// changed; a device of another kind under the name is left alone; IPIP reports clearly that
// this kernel cannot create it (it has no ipip module).
#include <gtest/gtest.h>

#include "netlink/device.hpp"
#include "netns.hpp"

namespace blockd::netlink {
namespace {

using test::must;
using test::Netns;

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    must(ns.ip("link add name up0 type veth peer name up0p"));
    must(ns.ip("link set up0 mtu 9000 up"));
    must(ns.ip("addr add 192.168.50.1/24 dev up0"));
    config.name = "vxlan.blockd";
    config.vni = 4096;
    config.uplink = "up0";
    config.local = Address::parse("192.168.50.1").value();
    config.mac = Mac::parse("66:00:00:00:00:01").value();
    config.address = ipam::InterfaceAddress::parse("10.0.0.0/32").value();
  }
  Status ensure(const VxlanDeviceConfig& c) {
    return ns.enter([&] { return ensure_vxlan_device(c); });
  }
  std::string details() { return must(ns.ip("-d link show vxlan.blockd")); }
  std::string ifindex() {
    const auto out = must(ns.ip("-o link show vxlan.blockd"));
    return out.substr(0, out.find(':'));
  }

  Netns ns{"device"};
  VxlanDeviceConfig config;
};

TEST_F(DeviceTest, CreatesTheVxlanDeviceAsConfigured) {
  auto s = ensure(config);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto d = details();
  EXPECT_NE(d.find("mtu 8950"), std::string::npos) << d;  // uplink 9000 - 50
  EXPECT_NE(d.find("state UNKNOWN"), std::string::npos) << d;  // up (no carrier concept)
  EXPECT_NE(d.find("link/ether 66:00:00:00:00:01"), std::string::npos) << d;
  EXPECT_NE(d.find("vxlan id 4096 local 192.168.50.1 dev up0"), std::string::npos) << d;
  EXPECT_NE(d.find("dstport 4789"), std::string::npos) << d;
  EXPECT_NE(d.find("nolearning"), std::string::npos) << d;
  EXPECT_NE(must(ns.ip("addr show dev vxlan.blockd")).find("inet 10.0.0.0/32"), std::string::npos);
}

TEST_F(DeviceTest, OverAnIpv6UnderlayTheMtuLeavesRoomForTheLargerHeader) {
  must(ns.ip("addr add fd50::1/64 dev up0 nodad"));
  config.local = Address::parse("fd50::1").value();
  config.address.reset();
  auto s = ensure(config);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto d = details();
  EXPECT_NE(d.find("mtu 8930"), std::string::npos) << d;  // uplink 9000 - 70 (Calico)
  EXPECT_NE(d.find("local fd50::1"), std::string::npos) << d;
  const auto before = ifindex();
  ASSERT_TRUE(ensure(config).ok());
  EXPECT_EQ(ifindex(), before) << "an IPv6 local address must compare equal, not recreate";
}

TEST_F(DeviceTest, KeepsADeviceThatIsAlreadyRight) {
  ASSERT_TRUE(ensure(config).ok());
  const auto before = ifindex();
  ASSERT_TRUE(ensure(config).ok());
  EXPECT_EQ(ifindex(), before) << "the device was recreated";
}

TEST_F(DeviceTest, RepairsMtuAndStateInPlace) {
  ASSERT_TRUE(ensure(config).ok());
  const auto before = ifindex();
  must(ns.ip("link set vxlan.blockd mtu 1200 down"));
  ASSERT_TRUE(ensure(config).ok());
  EXPECT_EQ(ifindex(), before);
  const auto d = details();
  EXPECT_NE(d.find("mtu 8950"), std::string::npos) << d;
  EXPECT_NE(d.find(",UP"), std::string::npos) << d;
}

TEST_F(DeviceTest, RecreatesTheDeviceWhenTheVniChanged) {
  ASSERT_TRUE(ensure(config).ok());
  config.vni = 4097;
  config.port = 8472;
  ASSERT_TRUE(ensure(config).ok());
  const auto d = details();
  EXPECT_NE(d.find("vxlan id 4097"), std::string::npos) << d;
  EXPECT_NE(d.find("dstport 8472"), std::string::npos) << d;
}

TEST_F(DeviceTest, LeavesADeviceOfAnotherKindAlone) {
  must(ns.ip("link add name vxlan.blockd type veth peer name other"));
  auto s = ensure(config);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::Conflict);
  EXPECT_EQ(s.error().message,
            "device vxlan.blockd exists and is a veth device: blockd will not take it over");
  EXPECT_NE(details().find("veth"), std::string::npos);
  auto del = ns.enter([] { return delete_device("vxlan.blockd", "vxlan"); });
  EXPECT_FALSE(del.ok());
  EXPECT_EQ(test::run(ns.ip("link show vxlan.blockd")).status, 0);
}

TEST_F(DeviceTest, RejectsABadConfigurationNamingTheField) {
  auto c = config;
  c.vni = 1 << 24;
  EXPECT_EQ(ensure(c).error().message, "VXLAN VNI 16777216 is not in 1..16777215");
  c = config;
  c.mac = Mac::parse("01:00:5e:00:00:01").value();
  EXPECT_EQ(ensure(c).error().message,
            "VXLAN device vxlan.blockd: MAC 01:00:5e:00:00:01 is not a unicast address");
  c = config;
  c.uplink = "nosuch0";
  EXPECT_EQ(ensure(c).error().message, "VXLAN device vxlan.blockd: uplink device nosuch0 not found");
}

TEST_F(DeviceTest, DeletesItsVxlanDevice) {
  ASSERT_TRUE(ensure(config).ok());
  auto s = ns.enter([] { return delete_device("vxlan.blockd", "vxlan"); });
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_NE(test::run(ns.ip("link show vxlan.blockd")).status, 0);
  // Deleting what is gone is success.
  EXPECT_TRUE(ns.enter([] { return delete_device("vxlan.blockd", "vxlan"); }).ok());
}

TEST_F(DeviceTest, IpipDeviceIsCreatedOrClearlyReportedAsUnsupported) {
  IpipDeviceConfig c;
  c.name = "tunl.blockd";
  c.uplink = "up0";
  auto s = ns.enter([&] { return ensure_ipip_device(c); });
  // Asked independently of blockd: can `ip` create an ipip device here?
  const bool kernel_has_ipip = test::run(ns.ip("link add name probe0 type ipip")).status == 0;
  if (kernel_has_ipip) {
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_NE(must(ns.ip("-d link show tunl.blockd")).find("ipip"), std::string::npos);
  } else {
    // This kernel (no ipip module): a clear error, nothing created, no crash.
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::Unavailable);
    EXPECT_NE(s.error().message.find("tunl.blockd: this kernel cannot create IPIP devices (no ipip module)"),
              std::string::npos)
        << s.error().message;
    EXPECT_NE(test::run(ns.ip("link show tunl.blockd")).status, 0);
  }
}

// The node's IPIP tunnel address (Calico's ipv4IPIPTunnelAddr) goes on the IPIP device as a /32.
// This kernel has no ipip module (nor dummy), so one end of a veth pair stands in for tunl0:
// the address step is the same netlink call whatever the device's kind.
TEST_F(DeviceTest, TheIpipTunnelAddressGoesOnTheDeviceAsAHostAddress) {
  must(ns.ip("link add name tunl.standin type veth peer name tunl.peer"));
  const auto a = ipam::InterfaceAddress::parse("10.244.0.1/32").value();
  auto s = ns.enter([&] { return ensure_device_address("tunl.standin", a); });
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_NE(must(ns.ip("-o addr show dev tunl.standin")).find("inet 10.244.0.1/32"), std::string::npos);
  // Again: kept, not an error (NLM_F_REPLACE).
  EXPECT_TRUE(ns.enter([&] { return ensure_device_address("tunl.standin", a); }).ok());
  auto missing = ns.enter([&] { return ensure_device_address("tunl.none", a); });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
  EXPECT_NE(missing.error().message.find("device tunl.none not found"), std::string::npos);
}

}  // namespace
}  // namespace blockd::netlink
