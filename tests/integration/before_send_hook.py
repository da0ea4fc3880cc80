#!/usr/bin/env python3
"""A before-send hook for the integration tests, independent of Parley's code: it verifies each
call's Standard Webhooks signature with Python's hmac and answers by the message's text:

  "reject …"        {"action": "reject", "reason": "no swearing here"}
  "rewrite …"       {"action": "rewrite", "text": the text upper-cased}
  "slow …"          answers allow after 1.5 s (past the test's timeout)
  "broken …"        status 500
  "garbage …"       200 with a body that is not JSON
  anything else     {"action": "allow"}  (or 204 for "empty …")

Prints "listening <port>". POST /_secret {"secret": S} sets the secret to verify with;
GET /_calls answers [{"verified": bool, "body": object}, …].
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {"secret": "", "calls": []}
lock = threading.Lock()


def verified(secret, headers, body):
    if not secret:
        return False
    msg_id, ts, sigs = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    if not (msg_id and ts and sigs) or abs(time.time() - int(ts)) > 300:
        return False
    key = base64.b64decode(secret[len("whsec_"):])
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
    return any(s.startswith("v1,") and hmac.compare_digest(s[3:], expected) for s in sigs.split(" "))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            body = json.dumps(state["calls"]).encode()
        self.answer(200, body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/_secret":
            with lock:
                state["secret"] = json.loads(body)["secret"]
            return self.answer(204)
        payload = json.loads(body)
        with lock:
            state["calls"].append({"verified": verified(state["secret"], self.headers, body), "body": payload})
        text = payload["data"]["message"]["text"]
        if text.startswith("reject"):
            return self.answer(200, json.dumps({"action": "reject", "reason": "no swearing here"}).encode())
        if text.startswith("rewrite"):
            return self.answer(200, json.dumps({"action": "rewrite", "text": text.upper()}).encode())
        if text.startswith("slow"):
            time.sleep(1.5)
        if text.startswith("broken"):
            return self.answer(500, b"{}")
        if text.startswith("garbage"):
            return self.answer(200, b"<html>", "text/html")
        if text.startswith("empty"):
            return self.answer(204)
        return self.answer(200, b'{"action": "allow"}')


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
