#!/usr/bin/env python3
"""A webhook receiver for the integration tests, independent of Parley's code: it verifies the
Standard Webhooks signature of every request with Python's hmac and records what it received.

Prints "listening <port>" once ready. Control endpoints (everything else is a webhook):
  POST /_config   {"secrets": [...], "fail": N, "status": S, "delay_ms": D}
                  the next N webhooks are answered with status S (default 500) after D ms
  GET  /_received [{"path", "headers", "body", "verified", "signed_by", "answered"}, ...]
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {"secrets": [], "fail": 0, "status": 500, "delay_ms": 0, "received": []}
lock = threading.Lock()


def signed_by(secrets, msg_id, timestamp, body, header):
    """Indices of the secrets whose v1 signature is in the header."""
    given = [part.split(",", 1)[1] for part in header.split(" ") if part.startswith("v1,")]
    content = f"{msg_id}.{timestamp}.".encode() + body
    out = []
    for i, secret in enumerate(secrets):
        key = base64.b64decode(secret[len("whsec_"):])
        expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, g) for g in given):
            out.append(i)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_received":
            with lock:
                body = json.dumps(state["received"]).encode()
            self.reply(200, body, "application/json")
        else:
            self.reply(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/_config":
            cfg = json.loads(body)
            with lock:
                for k in ("secrets", "fail", "status", "delay_ms"):
                    if k in cfg:
                        state[k] = cfg[k]
            self.reply(200, b"{}", "application/json")
            return
        msg_id = self.headers.get("webhook-id", "")
        timestamp = self.headers.get("webhook-timestamp", "")
        signature = self.headers.get("webhook-signature", "")
        with lock:
            by = signed_by(state["secrets"], msg_id, timestamp, body, signature)
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
            failing = state["fail"] > 0
            if failing:
                state["fail"] -= 1
            status = state["status"] if failing else 200
            delay = state["delay_ms"] if failing else 0
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            state["received"].append({
                "path": self.path,
                "headers": {"webhook-id": msg_id, "webhook-timestamp": timestamp,
                            "webhook-signature": signature,
                            "content-type": self.headers.get("Content-Type", "")},
                "body": parsed,
                "verified": bool(by) and fresh,
                "signed_by": by,
                "answered": status,
            })
        if delay:
            time.sleep(delay / 1000)
        self.reply(status, b"received" if status == 200 else b"try again later")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
