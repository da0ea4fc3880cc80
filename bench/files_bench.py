#!/usr/bin/env python3
"""Upload benchmark (docs/benchmarks.md, "Files"): starts the real parley binary on a fresh data
folder (local store, SQLite), then measures
  - one large upload through Parley (multipart, spooled), MB/s from the first byte sent to the
    201, and the server's peak RSS (VmHWM) before and after it, to show the body is streamed;
  - many small uploads from a few concurrent clients, uploads/s and latency percentiles.
Prints the figures and one JSON line. Never fails on time.

  bench/files_bench.py [--binary build/parley] [--large-mb 100] [--small N] [--clients 4]
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

ADMIN = "adm_files_bench_key_0123456789"
BOUNDARY = "----parley-files-bench"


def rss_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def request(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def multipart_parts(name, size):
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail, len(head) + size + len(tail)


def upload_stream(port, token, size):
    """Sends a multipart body of `size` pseudo-random bytes in 1 MiB writes; returns seconds."""
    head, tail, total = multipart_parts("big.bin", size)
    chunk = os.urandom(1 << 20)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    c.putrequest("POST", "/v1/files")
    c.putheader("Authorization", "Bearer " + token)
    c.putheader("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
    c.putheader("Content-Length", str(total))
    c.endheaders()
    c.send(head)
    left = size
    while left > 0:
        n = min(left, len(chunk))
        c.send(chunk[:n])
        left -= n
    c.send(tail)
    r = c.getresponse()
    body = r.read()
    elapsed = time.perf_counter() - start
    c.close()
    if r.status != 201:
        raise SystemExit(f"large upload failed: {r.status} {body[:300]}")
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/parley")
    ap.add_argument("--large-mb", type=int, default=100)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--small-bytes", type=int, default=2048)
    ap.add_argument("--clients", type=int, default=4)
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="parley-files-bench-")
    proc = subprocess.Popen(
        [args.binary, "serve", "--data-dir", data, "--port", "0", "--host", "127.0.0.1", "--demo", "false",
         "--admin-key", ADMIN, "--web-dir", "off", "--log-level", "warn", "--access-log", "false",
         "--rate-limit-user-per-sec", "100000", "--rate-limit-user-burst", "100000",
         "--rate-limit-ip-per-sec", "100000", "--rate-limit-ip-burst", "100000",
         "--files-max-mb", str(max(args.large_mb + 1, 100))],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for line in proc.stdout:
            if "listening on http://127.0.0.1:" in line:
                port = int(line.rsplit(":", 1)[1].split()[0].strip("/"))
                break
        if not port:
            raise SystemExit("parley did not start")
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
        st, body = request(port, "POST", "/v1/admin/apps", json.dumps({"name": "bench"}),
                           {"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"})
        app = json.loads(body)
        import base64
        basic = base64.b64encode(f"{app['api_key']}:{app['api_secret']}".encode()).decode()
        st, body = request(port, "POST", "/v1/auth/token", json.dumps({"user_id": "bench"}),
                           {"Authorization": "Basic " + basic, "Content-Type": "application/json"})
        token = json.loads(body)["access_token"]

        rss_before = rss_kb(proc.pid, "VmHWM")
        size = args.large_mb << 20
        secs = upload_stream(port, token, size)
        rss_after = rss_kb(proc.pid, "VmHWM")

        # Small uploads from several clients, one connection each.
        payload = os.urandom(args.small_bytes)
        head, tail, _ = multipart_parts("small.bin", len(payload))
        small_body = head + payload + tail
        latencies = []
        lock = threading.Lock()
        per_client = args.small // args.clients

        def client():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine = []
            for _ in range(per_client):
                t0 = time.perf_counter()
                c.request("POST", "/v1/files", body=small_body,
                          headers={"Authorization": "Bearer " + token,
                                   "Content-Type": "multipart/form-data; boundary=" + BOUNDARY})
                r = c.getresponse()
                r.read()
                if r.status != 201:
                    raise SystemExit(f"small upload failed: {r.status}")
                mine.append(time.perf_counter() - t0)
            c.close()
            with lock:
                latencies.extend(mine)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        small_secs = time.perf_counter() - t0
        latencies.sort()

        def pct(p):
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

        out = {
            "large_mb": args.large_mb,
            "large_seconds": round(secs, 3),
            "large_mb_per_s": round(args.large_mb / secs, 1),
            "peak_rss_mb_before": round(rss_before / 1024, 1),
            "peak_rss_mb_after": round(rss_after / 1024, 1),
            "small_uploads": len(latencies),
            "small_bytes": args.small_bytes,
            "clients": args.clients,
            "small_per_s": round(len(latencies) / small_secs, 1),
            "small_p50_ms": round(pct(0.50), 2),
            "small_p99_ms": round(pct(0.99), 2),
            "small_mean_ms": round(statistics.mean(latencies) * 1000, 2),
        }
        print(f"large upload: {args.large_mb} MiB in {secs:.2f} s = {out['large_mb_per_s']} MiB/s; "
              f"peak RSS {out['peak_rss_mb_before']} MiB before, {out['peak_rss_mb_after']} MiB after")
        print(f"small uploads: {len(latencies)} x {args.small_bytes} B from {args.clients} clients: "
              f"{out['small_per_s']}/s, p50 {out['small_p50_ms']} ms, p99 {out['small_p99_ms']} ms")
        print(json.dumps(out))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
