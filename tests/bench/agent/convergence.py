#!/usr/bin/env python3
"""From a CNI ADD that claims a new block to the block's route in the ToR's kernel table, and
from the DEL that empties it to the route's removal there.

Runs blockd-ipam (the IPAM plugin, as a runtime's main plugin calls it) in the node's network
namespace, one workload at a time, so every ADD claims a block and every DEL releases it
(ipam.releaseEmptyBlocks). A thread reads rtnetlink route events in the router's namespace (the
routes BIRD's kernel protocol writes) and the BGP UPDATEs arriving on the router's link to the
node (a packet socket), and stamps each with CLOCK_MONOTONIC, the clock the ADD is timed by. So
each figure splits in two: up to the UPDATE at the ToR (the plugin, the agent, the store, the
speaker) and from there to the kernel route (BIRD's share, the reference). Prints the BENCH lines.

Usage: convergence.py ROUTER_NETNS NODE_NETNS SOCKET IPAM_BIN POOL_PREFIX SAMPLES ROUTER_LINK
"""
import ctypes
import json
import os
import queue
import select
import socket
import struct
import subprocess
import sys
import threading
import time

CLONE_NEWNET = 0x40000000
RTMGRP_IPV4_ROUTE = 0x40
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
RTA_DST = 1
ETH_P_ALL, ETH_P_IP = 0x0003, 0x0800
BGP_UPDATE = 2

libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(name):
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


def bgp_updates(frame):
    """How many BGP UPDATEs an IPv4/TCP Ethernet frame carries (0 if it is no BGP)."""
    if len(frame) < 34 or struct.unpack_from("!H", frame, 12)[0] != ETH_P_IP or frame[23] != socket.IPPROTO_TCP:
        return 0
    ip = 14
    tcp = ip + (frame[ip] & 0x0F) * 4
    if len(frame) < tcp + 20 or 179 not in struct.unpack_from("!HH", frame, tcp):
        return 0
    at, n = tcp + (frame[tcp + 12] >> 4) * 4, 0
    # Whole messages only: one that spans two segments is not counted (UPDATEs here are small).
    while at + 19 <= len(frame):
        length = struct.unpack_from("!H", frame, at + 16)[0]
        if length < 19:
            break
        n += frame[at + 18] == BGP_UPDATE
        at += length
    return n


def tor_events(nl, link, out):
    """(monotonic time, 'add'|'del', 'a.b.c.d/len') for every IPv4 route change in the router's
    kernel, and (time, 'update', '') for every BGP UPDATE the router receives on `link`."""
    while True:
        ready, _, _ = select.select([nl, link], [], [])
        # Every frame queued before the route event is read first: an UPDATE behind another
        # frame still counts as before the route it caused.
        while link in ready:
            try:
                frame, address = link.recvfrom(1 << 16)
            except BlockingIOError:
                break
            now = time.monotonic()
            # Received, not sent (on a bridge port a frame to the bridge is OTHERHOST here).
            if address[2] != socket.PACKET_OUTGOING and bgp_updates(frame):
                out.put((now, "update", ""))
        if nl not in ready:
            continue
        data = nl.recv(1 << 16)
        now = time.monotonic()
        at = 0
        while at + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, at)
            if length < 16:
                break
            if kind in (RTM_NEWROUTE, RTM_DELROUTE):
                dst_len = data[at + 17]
                dst = "0.0.0.0"
                a = at + 16 + 12  # nlmsghdr, rtmsg
                while a + 4 <= at + length:
                    rlen, rtype = struct.unpack_from("=HH", data, a)
                    if rlen < 4:
                        break
                    if rtype == RTA_DST and rlen == 8:
                        dst = socket.inet_ntoa(data[a + 4:a + 8])
                    a += (rlen + 3) & ~3
                out.put((now, "add" if kind == RTM_NEWROUTE else "del", f"{dst}/{dst_len}"))
            at += (length + 3) & ~3


def keep_samples(name, xs):
    """The raw samples (ms) for tests/bench/run.sh --report, when it asks (BLOCKD_BENCH_SAMPLES)."""
    folder = os.environ.get("BLOCKD_BENCH_SAMPLES")
    if folder:
        with open(os.path.join(folder, name + ".txt"), "w", encoding="utf-8") as out:
            out.writelines(f"{x}\n" for x in xs)


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    router_ns, node_ns, sock_path, ipam_bin, pool_prefix, samples, router_link = sys.argv[1:8]
    samples = int(samples)
    enter_netns(router_ns)
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    nl.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    nl.bind((0, RTMGRP_IPV4_ROUTE))
    # ETH_P_ALL: on a bridge port (the router's links are) a socket of one protocol sees nothing,
    # the bridge takes the frame first.
    link = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    link.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    link.bind((router_link, ETH_P_ALL))
    link.setblocking(False)
    enter_netns(node_ns)  # the plugin runs in the node's namespace, as the runtime runs it
    events = queue.Queue()
    threading.Thread(target=tor_events, args=(nl, link, events), daemon=True).start()

    config = json.dumps({"cniVersion": "1.0.0", "name": "benchnet",
                         "ipam": {"type": "blockd-ipam", "socket": sock_path}}).encode()

    def cni(command, cid):
        env = dict(os.environ, CNI_COMMAND=command, CNI_CONTAINERID=cid, CNI_NETNS=f"/run/netns/{node_ns}",
                   CNI_IFNAME="eth0", CNI_PATH=os.path.dirname(ipam_bin))
        r = subprocess.run([ipam_bin], input=config, env=env, capture_output=True)
        if r.returncode != 0:
            sys.exit(f"CNI {command} {cid} failed: {r.stdout.decode()} {r.stderr.decode()}")
        return r.stdout

    def await_route(kind, prefix, since, timeout=10.0):
        """When the route change came, and when the last UPDATE before it arrived at the ToR."""
        deadline = time.monotonic() + timeout
        update = None
        while True:
            try:
                at, k, p = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                sys.exit(f"no route {kind} of {prefix} at the ToR within {timeout} s")
            if at < since:
                continue
            if k == "update":
                update = at
            elif k == kind and p == prefix:
                return at, update  # update None: not seen whole in one frame (not split then)

    add_ms, to_fib, to_withdraw = [], [], []
    to_update, bird_add, to_withdraw_update, bird_del = [], [], [], []
    for i in range(samples):
        cid = f"conv{os.getpid()}-{i}"
        t0 = time.monotonic()
        out = json.loads(cni("ADD", cid))
        t1 = time.monotonic()
        address = out["ips"][0]["address"].split("/")[0]
        # The block the address lies in: the pool's blocks are /26.
        a = struct.unpack("!I", socket.inet_aton(address))[0] & ~0x3F
        block = f"{socket.inet_ntoa(struct.pack('!I', a))}/26"
        if not block.startswith(pool_prefix):
            sys.exit(f"{address} is not in the bench pool")
        t2, u2 = await_route("add", block, t0)
        add_ms.append((t1 - t0) * 1000)
        to_fib.append((t2 - t0) * 1000)
        if u2 is not None:
            to_update.append((u2 - t0) * 1000)
            bird_add.append((t2 - u2) * 1000)
        t3 = time.monotonic()
        cni("DEL", cid)
        t4, u4 = await_route("del", block, t3)
        to_withdraw.append((t4 - t3) * 1000)
        if u4 is not None:
            to_withdraw_update.append((u4 - t3) * 1000)
            bird_del.append((t4 - u4) * 1000)

    def line(name, xs):
        if not xs:
            return f"BENCH {name} samples=0"
        keep_samples(name, xs)
        return (f"BENCH {name} p50_ms={percentile(xs, 50):.1f} p99_ms={percentile(xs, 99):.1f} "
                f"max_ms={max(xs):.1f} samples={len(xs)}")
    print(line("pod_to_tor_fib", to_fib) + " goal_p50<10 goal_p99<50")
    print(line("pod_del_to_tor_withdraw", to_withdraw))
    print(line("pod_to_tor_update", to_update) + " (the ADD to its UPDATE at the ToR: plugin, agent, store, speaker)")
    print(line("tor_update_to_fib_bird", bird_add) + " (that UPDATE to the route in the ToR's kernel: BIRD's share)")
    print(line("pod_del_to_tor_update", to_withdraw_update) + " (the DEL to the withdrawal at the ToR)")
    print(line("tor_withdraw_to_fib_bird", bird_del) + " (the withdrawal to the route's removal: BIRD's share)")
    print(line("pod_to_tor_fib_cni_add_part", add_ms) + " (the ADD's own time, within pod_to_tor_fib)")


if __name__ == "__main__":
    main()
