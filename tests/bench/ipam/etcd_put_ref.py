#!/usr/bin/env python3
"""Reference for the etcd benchmarks: raw HTTP/1.1 puts to etcd's v3 JSON gateway, one
keep-alive connection per client thread, no library in between. Prints the rate and the
p50/p99 latency: "<puts per second> <p50 ms> <p99 ms>".
With --txn, each request is instead the transaction an allocation commits, of the same shape:
compare-and-swap of the client's own VALUE_BYTES record (the block), create of a new small key
(the handle), and a compare that nothing under a prefix changed (the settings guard).
Usage: etcd_put_ref.py [--txn] HOST:PORT CLIENTS PUTS_PER_CLIENT [VALUE_BYTES (200)]
       etcd_put_ref.py --served HOST:PORT   (key-value requests etcd has served, from /metrics)
       etcd_put_ref.py --metric NAME HOST:PORT   (the sum of one of etcd's counters, from /metrics)"""
import base64
import http.client
import json
import sys
import threading
import time

if sys.argv[1] == "--served":
    import re
    import urllib.request
    text = urllib.request.urlopen(f"http://{sys.argv[2]}/metrics").read().decode()
    pattern = r'^grpc_server_handled_total\{grpc_code="OK",grpc_method="(?:Range|Txn|Put|DeleteRange)"[^}]*\} (\S+)$'
    print(int(sum(float(v) for v in re.findall(pattern, text, re.M))))
    sys.exit(0)
if sys.argv[1] == "--metric":
    import re
    import urllib.request
    text = urllib.request.urlopen(f"http://{sys.argv[3]}/metrics").read().decode()
    pattern = r'^' + re.escape(sys.argv[2]) + r'(?:\{[^}]*\})? (\S+)$'
    print(int(sum(float(v) for v in re.findall(pattern, text, re.M))))
    sys.exit(0)

txn = sys.argv[1] == "--txn"
if txn:
    del sys.argv[1]
host, port = sys.argv[1].rsplit(":", 1)
clients, each = int(sys.argv[2]), int(sys.argv[3])
value_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 200
b64 = lambda text: base64.b64encode(text.encode()).decode()


def put_request(n, i, _revision):
    return "/v3/kv/put", {"key": b64(f"/bench/ref/{n}/{i}"), "value": b64("x" * value_bytes)}


def txn_request(n, i, revision):
    block, handle, guard = b64(f"/bench/reftxn/block/{n}"), b64(f"/bench/reftxn/handle/{n}/{i}"), "/bench/reftxn/guard/"
    guard_range = {"key": b64(guard), "range_end": b64(guard[:-1] + chr(ord(guard[-1]) + 1))}
    return "/v3/kv/txn", {
        "compare": [{"key": block, "target": "MOD", "result": "EQUAL", "mod_revision": str(revision)},
                    {"key": handle, "target": "MOD", "result": "EQUAL", "mod_revision": "0"},
                    dict(guard_range, target="MOD", result="LESS", mod_revision="1000000000")],
        "success": [{"request_put": {"key": block, "value": b64("x" * value_bytes)}},
                    {"request_put": {"key": handle, "value": b64('{"blocks":{"10.20.0.0/26":1},"handle":"h"}')}}],
        "failure": [{"request_range": {"key": block}}, {"request_range": {"key": handle}}]}


make_request = txn_request if txn else put_request
latencies = []
lock = threading.Lock()
failed = []


def run(n):
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    mine = []
    revision = 0  # the client's block as last written (txn)
    for i in range(each):
        path, body = make_request(n, i, revision)
        payload = json.dumps(body)
        t = time.perf_counter()
        conn.request("POST", path, payload, {"Content-Type": "application/json"})
        r = conn.getresponse()
        answer = r.read()
        mine.append(time.perf_counter() - t)
        if r.status != 200:
            failed.append(f"HTTP {r.status}")
            return
        if txn:
            answer = json.loads(answer)
            if not answer.get("succeeded"):
                failed.append("a transaction's compare failed")
                return
            revision = int(answer["header"]["revision"])
    with lock:
        latencies.extend(mine)


threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
start = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.perf_counter() - start
if failed:
    sys.exit(f"reference puts failed: {failed[0]}")
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
print(f"{len(latencies) / elapsed:.1f} {p(0.50):.2f} {p(0.99):.2f}")
