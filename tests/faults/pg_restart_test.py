#!/usr/bin/env python3
"""Fault test: PostgreSQL stops and restarts while a client keeps sending.

Starts its own throwaway PostgreSQL cluster (Debian's binaries) and the real parley binary on
it, sends messages with client_msg_ids, stops PostgreSQL mid-traffic, and checks that:
  - meanwhile requests fail with 503 and the retryable error code "unavailable",
  - /health/detailed reports the database check failing (503),
  - after PostgreSQL is back, Parley reconnects by itself (no restart of parley),
  - every acknowledged message is in the history exactly once and seqs are exactly 1..N.
Retries reuse the client_msg_id, so a send whose outcome was unknown cannot duplicate.
usage: pg_restart_test.py <path to parley>
"""
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

MESSAGES = 120
ADMIN_KEY = "adm_fault_test_key"


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not dirs:
        print("SKIP: PostgreSQL binaries not found")
        sys.exit(0)
    return dirs[-1]


class Postgres:
    def __init__(self):
        self.bindir = pg_bindir()
        self.dir = tempfile.mkdtemp(prefix="parley-pgfault-")
        self.as_pg = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        self.port = None
        subprocess.run(self.as_pg + [self.bindir + "/initdb", "-D", self.dir + "/data", "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)

    def start(self):
        ports = [self.port] if self.port else [random.randint(40000, 60000) for _ in range(8)]
        for port in ports:
            r = subprocess.run(self.as_pg + [self.bindir + "/pg_ctl", "-D", self.dir + "/data", "-l",
                                             self.dir + "/server.log", "-w", "-t", "60", "-o",
                                             f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                                             "start"], capture_output=True)
            if r.returncode == 0:
                self.port = port
                return
        fail("could not start PostgreSQL: " + open(self.dir + "/server.log").read()[-2000:])

    def stop(self):
        subprocess.run(self.as_pg + [self.bindir + "/pg_ctl", "-D", self.dir + "/data", "-m", "fast", "-w",
                                     "stop"], capture_output=True)

    def cleanup(self):
        subprocess.run(self.as_pg + [self.bindir + "/pg_ctl", "-D", self.dir + "/data", "-m", "immediate", "-w",
                                     "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def request(base, method, path, body=None, auth=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def main():
    parley = sys.argv[1]
    pg = Postgres()
    server = None
    try:
        pg.start()
        data_dir = tempfile.mkdtemp(prefix="parley-pgfault-data-")
        url = f"postgres://postgres@127.0.0.1:{pg.port}/postgres"
        server = subprocess.Popen([parley, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", data_dir,
                                   "--database-url", url, "--admin-key", ADMIN_KEY, "--demo", "false",
                                   "--log-level", "error", "--web-dir", "off", "--rate-limit-user-per-sec",
                                   "100000", "--rate-limit-user-burst", "100000", "--rate-limit-ip-per-sec",
                                   "100000", "--rate-limit-ip-burst", "100000"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        base = None
        for line in server.stdout:
            if "listening on http://" in line:
                base = line.strip().split("listening on ")[1]
                break
        if not base:
            fail("parley did not start")
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()

        status, app = request(base, "POST", "/v1/admin/apps", {"name": "fault"}, "Bearer " + ADMIN_KEY)
        assert status == 201, (status, app)
        import base64
        basic = "Basic " + base64.b64encode(f"{app['api_key']}:{app['api_secret']}".encode()).decode()
        status, pair = request(base, "POST", "/v1/auth/token", {"user_id": "alice", "ttl_seconds": 3600}, basic)
        assert status == 200, (status, pair)
        bearer = "Bearer " + pair["access_token"]
        status, ch = request(base, "POST", "/v1/channels", {"type": "group", "name": "fault"}, bearer)
        assert status == 201, (status, ch)
        channel = ch["channel"]["id"]

        acked = {}          # client_msg_id -> seq
        unavailable = []    # error codes seen while PostgreSQL was down
        other_errors = []
        done = threading.Event()

        def sender():
            i = 0
            while i < MESSAGES:
                cid = f"m{i}"
                status, body = request(base, "POST", f"/v1/channels/{channel}/messages",
                                       {"text": f"message {i}", "client_msg_id": cid}, bearer)
                if status in (200, 201):
                    acked[cid] = body["message"]["seq"]
                    i += 1
                elif status == 503:
                    unavailable.append(body.get("error", {}).get("code"))
                    time.sleep(0.05)  # retry the same client_msg_id
                else:
                    other_errors.append((status, body))
                    time.sleep(0.05)
            done.set()

        t = threading.Thread(target=sender, daemon=True)
        t.start()
        deadline = time.time() + 60
        while len(acked) < 30 and time.time() < deadline:
            time.sleep(0.01)
        if len(acked) < 30:
            fail("sending did not get going: %d acks" % len(acked))
        pg.stop()
        deadline = time.time() + 30
        while not unavailable and time.time() < deadline:
            time.sleep(0.02)
        if not unavailable:
            fail("no request failed while PostgreSQL was down")
        status, health = request(base, "GET", "/health/detailed")
        if status != 503 or health["checks"]["database"]["status"] != "error":
            fail("health/detailed did not report the database down: %s %s" % (status, health))
        acked_while_down = len(acked)
        time.sleep(0.5)
        pg.start()
        if not done.wait(120):
            fail("sending did not finish after PostgreSQL came back (%d acks)" % len(acked))
        if other_errors:
            fail("unexpected errors: %s" % other_errors[:3])
        if any(code != "unavailable" for code in unavailable):
            fail("503s must carry the retryable code 'unavailable': %s" % set(unavailable))
        status, health = request(base, "GET", "/health/detailed")
        if status != 200:
            fail("health/detailed did not recover: %s %s" % (status, health))

        seqs = []
        after = 0
        while True:
            status, page = request(base, "GET", f"/v1/channels/{channel}/messages?after_seq={after}&limit=200",
                                   auth=bearer)
            assert status == 200, (status, page)
            seqs += [m["seq"] for m in page["items"]]
            texts = {m["client_msg_id"]: m["seq"] for m in page["items"]}
            for cid, seq in texts.items():
                if cid in acked and acked[cid] != seq:
                    fail(f"{cid} was acknowledged with seq {acked[cid]} but stored at {seq}")
            if not page["has_more"]:
                break
            after = seqs[-1]
        if seqs != list(range(1, MESSAGES + 1)):
            fail("seqs are not exactly 1..%d: %s" % (MESSAGES, seqs[:10]))
        if len(acked) != MESSAGES or sorted(acked.values()) != list(range(1, MESSAGES + 1)):
            fail("acknowledged messages are missing or duplicated")
        print(f"ok: {MESSAGES} messages, {len(unavailable)} retryable 503s while PostgreSQL was down "
              f"(after {acked_while_down} acks), seqs 1..{MESSAGES}, nothing lost or duplicated", flush=True)
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        pg.cleanup()


if __name__ == "__main__":
    main()
