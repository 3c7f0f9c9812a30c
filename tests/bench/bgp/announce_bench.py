#!/usr/bin/env python3
"""Time for 100,000 prefixes to reach a BIRD 2 receiver, from bgpspeak, BIRD 2 and GoBGP as
senders of the same prefixes, in one run; median of ROUNDS each.

The clock is the receiver's own: from its session reaching Established (BIRD's protocol
"since" time) to the import time of the last of the prefixes (BIRD's route timestamps), both
in milliseconds. Every sender gets its own namespace and veth to the receiver's namespace.
"""
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from datetime import datetime

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
SPEAK = os.path.join(BUILD, "bgp", "bgpspeak")
N = int(os.environ.get("BGP_BENCH_PREFIXES", "100000"))
ROUNDS = int(os.environ.get("BGP_BENCH_ROUNDS", "3"))
P = f"bgb{os.getpid()}"
RECV = P + "r"
SENDERS = {"speak": (1, 65001), "bird": (2, 65002), "gobgp": (3, 65003)}  # subnet 10.78.<n>.0/24, AS
API_PORT = 50000 + os.getpid() % 10000
work = tempfile.mkdtemp(prefix=P)
os.chmod(work, 0o755)
procs = []


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True, **kw)


def ns(name, *args, **kw):
    return sh("ip", "netns", "exec", name, *args, **kw)


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
    for pidfile in ("recv.pid", "bird.pid"):
        path = os.path.join(work, pidfile)
        if os.path.exists(path):
            try:
                os.kill(int(open(path).read()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
    time.sleep(0.3)
    for n in [RECV] + [P + s for s in SENDERS]:
        sh("ip", "netns", "del", n, check=False)
    shutil.rmtree(work, ignore_errors=True)


def prefixes():
    # 10.128.0.0/26, 10.128.0.64/26, ...
    base = (10 << 24) | (128 << 16)
    for i in range(N):
        a = base + (i << 6)
        yield f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/26", a


FILLER = 5000


def write_mrt(path, next_hop):
    """A TABLE_DUMP_V2 file (RFC 6396) GoBGP can inject: one peer, one path per prefix.
    gobgp 3.10's `mrt inject` exits before its stream is drained and loses the last ~1,500
    records, so FILLER prefixes outside the measured range (11.0.0.0/8, which the receiver's
    import filter rejects) follow the real ones."""
    def record(subtype, body):
        return struct.pack("!IHHI", 0, 13, subtype, len(body)) + body
    nh = bytes(int(x) for x in next_hop.split("."))
    peer = struct.pack("!IH", 0x0a4e0302, 0) + struct.pack("!H", 1) + b"\x02" + struct.pack("!I", 0x0a4e0302) + nh + struct.pack("!I", 65003)
    attrs = b"\x40\x01\x01\x00" + b"\x40\x02\x00" + b"\x40\x03\x04" + nh
    out = [record(1, peer)]
    filler = [(None, (11 << 24) + (i << 6)) for i in range(FILLER)]
    for seq, (_, a) in enumerate(list(prefixes()) + filler):
        body = struct.pack("!IB", seq, 26) + struct.pack("!I", a)[:4] + struct.pack("!HHIH", 1, 0, 0, len(attrs)) + attrs
        out.append(record(2, body))
    with open(path, "wb") as f:
        f.write(b"".join(out))


def birdc(sock, *cmd):
    return sh("birdc", "-s", sock, *cmd).stdout


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").timestamp()


def since_established(proto):
    for line in birdc(RECV_SOCK, "show", "protocols", proto).splitlines():
        if line.startswith(proto) and "Established" in line:
            parts = line.split()
            return parse_time(parts[4] + " " + parts[5])
    return None


def route_count(proto):
    out = birdc(RECV_SOCK, "show", "route", "protocol", proto, "count")
    for line in out.splitlines():
        if "of" in line and "routes" in line:
            return int(line.split()[0])
    return 0


def last_import(proto):
    latest = 0.0
    for line in birdc(RECV_SOCK, "show", "route", "protocol", proto).splitlines():
        if "[" + proto + " " in line:
            stamp = line.split("[" + proto + " ", 1)[1].split("]", 1)[0]
            latest = max(latest, parse_time(stamp))
    return latest


def wait(cond, what, secs=120):
    end = time.time() + secs
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit(f"bench: timed out waiting for {what}")


def measure(name, start, stop):
    proto = "from_" + name  # "bird" is a keyword of BIRD's config
    start()
    t0 = wait(lambda: since_established(proto), f"{proto} Established")
    wait(lambda: route_count(proto) >= N, f"{N} prefixes from {proto}")
    t1 = last_import(proto)
    stop()
    wait(lambda: route_count(proto) == 0 and not since_established(proto), f"{proto} withdrawn", 60)
    return t1 - t0


def main():
    sh("ip", "netns", "add", RECV)
    ns(RECV, "ip", "link", "set", "lo", "up")
    recv_protocols = []
    for name, (n, asn) in SENDERS.items():
        s = P + name
        sh("ip", "netns", "add", s)
        sh("ip", "link", "add", f"{P}{n}a", "type", "veth", "peer", "name", f"{P}{n}b")
        sh("ip", "link", "set", f"{P}{n}a", "netns", RECV)
        sh("ip", "link", "set", f"{P}{n}b", "netns", s)
        ns(RECV, "ip", "addr", "add", f"10.78.{n}.1/24", "dev", f"{P}{n}a")
        ns(s, "ip", "addr", "add", f"10.78.{n}.2/24", "dev", f"{P}{n}b")
        ns(RECV, "ip", "link", "set", f"{P}{n}a", "up")
        ns(s, "ip", "link", "set", f"{P}{n}b", "up")
        ns(s, "ip", "link", "set", "lo", "up")
        recv_protocols.append(
            f"protocol bgp from_{name} {{ local 10.78.{n}.1 as 65000; neighbor 10.78.{n}.2 as {asn}; passive on;\n"
            f"  ipv4 {{ import where net ~ [ 10.128.0.0/9{{26,26}} ]; export none; }}; }}\n")
    with open(f"{work}/recv.conf", "w") as f:
        f.write("router id 10.78.0.1;\ntimeformat route iso long ms;\ntimeformat protocol iso long ms;\n"
                "protocol device {}\n" + "".join(recv_protocols))
    ns(RECV, "bird", "-c", f"{work}/recv.conf", "-s", RECV_SOCK, "-P", f"{work}/recv.pid")

    # bgpspeak: the prefixes in a file.
    with open(f"{work}/announce.txt", "w") as f:
        f.write("".join(p + "\n" for p, _ in prefixes()))
    speak = {}

    def speak_start():
        speak["p"] = subprocess.Popen(["ip", "netns", "exec", P + "speak", SPEAK, "--local-as", "65001", "--router-id",
                                       "10.78.1.2", "--peer", "10.78.1.1:65000", "--announce", f"{work}/announce.txt",
                                       "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(speak["p"])

    def speak_stop():
        speak["p"].terminate()
        speak["p"].wait()

    # BIRD sender: the prefixes as static routes; its BGP protocol enabled per round.
    with open(f"{work}/bird.conf", "w") as f:
        f.write("router id 10.78.2.2;\nprotocol device {}\nprotocol static { ipv4;\n")
        f.write("".join(f"  route {p} blackhole;\n" for p, _ in prefixes()))
        f.write("}\nprotocol bgp recv { local 10.78.2.2 as 65002; neighbor 10.78.2.1 as 65000; disabled;\n"
                "  connect delay time 1; ipv4 { import none; export all; }; }\n")
    ns(P + "bird", "bird", "-c", f"{work}/bird.conf", "-s", f"{work}/bird.ctl", "-P", f"{work}/bird.pid")
    wait(lambda: os.path.exists(f"{work}/bird.ctl"), "BIRD sender")

    # GoBGP sender: the prefixes injected from an MRT dump; its neighbor added per round.
    with open(f"{work}/gobgp.toml", "w") as f:
        f.write('[global.config]\n  as = 65003\n  router-id = "10.78.3.2"\n  local-address-list = ["10.78.3.2"]\n')
    procs.append(subprocess.Popen(["ip", "netns", "exec", P + "gobgp", "gobgpd", "-f", f"{work}/gobgp.toml",
                                   "--api-hosts", f"127.0.0.1:{API_PORT}", "-l", "warn"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    def gobgp(*a, check=True):
        return ns(P + "gobgp", "gobgp", "-p", str(API_PORT), *a, check=check)
    wait(lambda: gobgp("global", check=False).returncode == 0, "GoBGP API")
    write_mrt(f"{work}/routes.mrt", "10.78.3.2")
    gobgp("mrt", "inject", "global", f"{work}/routes.mrt")
    def gobgp_loaded():
        out = gobgp("global", "rib", "summary").stdout
        return "Destination:" in out and int(out.split("Destination:")[1].split(",")[0]) > N
    wait(gobgp_loaded, "GoBGP RIB loaded")

    times = {name: [] for name in SENDERS}
    runs = {
        "speak": (speak_start, speak_stop),
        "bird": (lambda: birdc(f"{work}/bird.ctl", "enable", "recv"), lambda: birdc(f"{work}/bird.ctl", "disable", "recv")),
        "gobgp": (lambda: gobgp("neighbor", "add", "10.78.3.1", "as", "65000"), lambda: gobgp("neighbor", "del", "10.78.3.1")),
    }
    for _ in range(ROUNDS):
        for name, (start, stop) in runs.items():
            times[name].append(measure(name, start, stop))
    med = {k: statistics.median(v) for k, v in times.items()}
    for name in SENDERS:
        print(f"# {name}: " + " ".join(f"{t:.3f}s" for t in times[name]))
    for ref in ("bird", "gobgp"):
        ratio = med["speak"] / med[ref] if med[ref] > 0 else float("inf")
        print(f"BENCH bgp_announce_{N // 1000}k_vs_{ref} ours={med['speak']:.3f}s ref={med[ref]:.3f}s ratio={ratio:.2f}")


RECV_SOCK = f"{work}/recv.ctl"
if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
