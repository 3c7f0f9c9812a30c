#!/usr/bin/env python3
"""From a CNI ADD that claims a new block to the block's route in the ToR's kernel table, and
from the DEL that empties it to the route's removal there.

Runs blockd-ipam (the IPAM plugin, as a runtime's main plugin calls it) in the node's network
namespace, one workload at a time, so every ADD claims a block and every DEL releases it
(ipam.releaseEmptyBlocks). A thread reads rtnetlink route events in the router's namespace (the
routes BIRD's kernel protocol writes) and stamps each with CLOCK_MONOTONIC, the clock the ADD
is timed by. Prints the BENCH lines.

Usage: convergence.py ROUTER_NETNS NODE_NETNS SOCKET IPAM_BIN POOL_PREFIX SAMPLES
"""
import ctypes
import json
import os
import queue
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

libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(name):
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


def route_events(sock, out):
    """(monotonic time, 'add'|'del', 'a.b.c.d/len') for every IPv4 route change."""
    while True:
        data = sock.recv(1 << 16)
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
    router_ns, node_ns, sock_path, ipam_bin, pool_prefix, samples = sys.argv[1:7]
    samples = int(samples)
    enter_netns(router_ns)
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    nl.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    nl.bind((0, RTMGRP_IPV4_ROUTE))
    enter_netns(node_ns)  # the plugin runs in the node's namespace, as the runtime runs it
    events = queue.Queue()
    threading.Thread(target=route_events, args=(nl, events), daemon=True).start()

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
        deadline = time.monotonic() + timeout
        while True:
            try:
                at, k, p = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                sys.exit(f"no route {kind} of {prefix} at the ToR within {timeout} s")
            if k == kind and p == prefix and at >= since:
                return at

    add_ms, to_fib, to_withdraw = [], [], []
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
        t2 = await_route("add", block, t0)
        add_ms.append((t1 - t0) * 1000)
        to_fib.append((t2 - t0) * 1000)
        t3 = time.monotonic()
        cni("DEL", cid)
        t4 = await_route("del", block, t3)
        to_withdraw.append((t4 - t3) * 1000)

    def line(name, xs):
        keep_samples(name, xs)
        return (f"BENCH {name} p50_ms={percentile(xs, 50):.1f} p99_ms={percentile(xs, 99):.1f} "
                f"max_ms={max(xs):.1f} samples={len(xs)}")
    print(line("pod_to_tor_fib", to_fib) + " goal_p50<10 goal_p99<50")
    print(line("pod_del_to_tor_withdraw", to_withdraw))
    print(line("pod_to_tor_fib_cni_add_part", add_ms) + " (the ADD's own time, within pod_to_tor_fib)")


if __name__ == "__main__":
    main()
