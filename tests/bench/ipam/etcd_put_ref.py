#!/usr/bin/env python3
"""Reference for the etcd benchmarks: raw HTTP/1.1 puts to etcd's v3 JSON gateway, one
keep-alive connection per client thread, no library in between. Prints the rate and the
p50/p99 latency: "<puts per second> <p50 ms> <p99 ms>".
Usage: etcd_put_ref.py HOST:PORT CLIENTS PUTS_PER_CLIENT [VALUE_BYTES (200)]
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

host, port = sys.argv[1].rsplit(":", 1)
clients, each = int(sys.argv[2]), int(sys.argv[3])
value_bytes = int(sys.argv[4]) if len(sys.argv) > 4 else 200
latencies = []
lock = threading.Lock()
failed = []


def run(n):
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    mine = []
    for i in range(each):
        body = json.dumps({"key": base64.b64encode(f"/bench/ref/{n}/{i}".encode()).decode(),
                           "value": base64.b64encode(b"x" * value_bytes).decode()})
        t = time.perf_counter()
        conn.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        mine.append(time.perf_counter() - t)
        if r.status != 200:
            failed.append(r.status)
            return
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
    sys.exit(f"reference puts failed: HTTP {failed[0]}")
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
print(f"{len(latencies) / elapsed:.1f} {p(0.50):.2f} {p(0.99):.2f}")
