#!/usr/bin/env python3
"""CNI ADD and DEL latency of an IPAM plugin alone, as a runtime calls it: SAMPLES sequential
ADDs then their DELs (each timed), then 100 ADDs in a row and 100 ADDs 8 at a time (the total).
The same for blockd-ipam against the running agent and for the reference, containernetworking's
host-local, in one run. Runs in NETNS (the node's network namespace).

Usage: cni_add.py NETNS SAMPLES NAME=CONFIG_JSON... (CONFIG_JSON: the network config to pass)
"""
import concurrent.futures
import ctypes
import json
import os
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000


def enter_netns(name):
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


def keep_samples(name, xs):
    """The raw samples (ms) for tests/bench/run.sh --report, when it asks (BLOCKD_BENCH_SAMPLES)."""
    folder = os.environ.get("BLOCKD_BENCH_SAMPLES")
    if folder:
        with open(os.path.join(folder, name + ".txt"), "w", encoding="utf-8") as out:
            out.writelines(f"{x}\n" for x in xs)


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def measure(name, config, netns, samples):
    conf = json.loads(config)
    plugin = conf["ipam"]["path"]
    del conf["ipam"]["path"]
    data = json.dumps(conf).encode()

    def cni(command, cid):
        env = dict(os.environ, CNI_COMMAND=command, CNI_CONTAINERID=cid, CNI_NETNS=f"/run/netns/{netns}",
                   CNI_IFNAME="eth0", CNI_PATH=os.path.dirname(plugin))
        t = time.monotonic()
        r = subprocess.run([plugin], input=data, env=env, capture_output=True)
        if r.returncode != 0:
            sys.exit(f"{name}: CNI {command} {cid} failed: {r.stdout.decode()} {r.stderr.decode()}")
        return (time.monotonic() - t) * 1000

    def batch(prefix, count, parallel):
        t = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda i: cni("ADD", f"{prefix}{i}"), range(count)))
        total = time.monotonic() - t
        with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda i: cni("DEL", f"{prefix}{i}"), range(count)))
        return total

    adds = [cni("ADD", f"seq{i}") for i in range(samples)]
    dels = [cni("DEL", f"seq{i}") for i in range(samples)]
    return {"add": adds, "del": dels, "seq100": batch("s", 100, 1), "par100": batch("p", 100, 8)}


def main():
    netns, samples = sys.argv[1], int(sys.argv[2])
    enter_netns(netns)
    results = {}
    for arg in sys.argv[3:]:
        name, config = arg.split("=", 1)
        results[name] = measure(name, config, netns, samples)
    ours, ref = results["blockd"], results["host_local"]
    for kind in ("add", "del"):
        keep_samples(f"cni_{kind}", ours[kind])
        keep_samples(f"cni_{kind}_ref_host_local", ref[kind])
        print(f"BENCH cni_{kind} p50_ms={percentile(ours[kind], 50):.1f} p99_ms={percentile(ours[kind], 99):.1f} "
              f"samples={samples} ref_host_local_p50_ms={percentile(ref[kind], 50):.1f} "
              f"ref_host_local_p99_ms={percentile(ref[kind], 99):.1f}")
    print(f"BENCH cni_100_adds total_s={ours['seq100']:.2f} concurrent8_total_s={ours['par100']:.2f} "
          f"ref_host_local_total_s={ref['seq100']:.2f} ref_host_local_concurrent8_total_s={ref['par100']:.2f} "
          f"goal<2s {'met' if max(ours['seq100'], ours['par100']) < 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
