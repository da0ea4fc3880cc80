#!/usr/bin/env python3
"""Pages for the link preview integration tests, served on 127.0.0.1 at a port it picks (prints
"listening <port>"). GET /_hits answers {path: times fetched}. The pages:

  /og            OpenGraph title, description, site name and a relative image
  /twitter       Twitter-card tags only
  /plain         <title> and <meta name="description"> only
  /oembed-page   a bare page that names its oEmbed JSON (/oembed.json)
  /latin1        ISO-8859-1 bytes, said so in the Content-Type header
  /malformed     unclosed tags, meta tags in the body, stray bytes, 5,000 nested divs
  /huge          OpenGraph tags first, then 20 MB of body
  /late          2 MB of padding, then OpenGraph tags (past the server's read limit)
  /none          a page with nothing to show
  /image.png     an image
  /slow          answers after 3 s
  /redirect?to=U 302 to U
  /status/N      answers status N with OpenGraph tags
"""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

hits = {}
lock = threading.Lock()

OG = (b'<!doctype html><html><head><meta charset="utf-8"><title>Ignored title</title>'
      b'<meta property="og:title" content="Parley &amp; friends">'
      b'<meta property="og:description" content="  A chat   backend\n that is fast.  ">'
      b'<meta property="og:site_name" content="Parley Docs">'
      b'<meta property="og:image" content="/img/card.png"></head><body>hi</body></html>')


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="text/html; charset=utf-8", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading at its limit

    def do_GET(self):
        url = urlparse(self.path)
        path = url.path
        if path == "/_hits":
            import json
            with lock:
                body = json.dumps(hits).encode()
            return self.send(200, body, "application/json")
        with lock:
            hits[path] = hits.get(path, 0) + 1
        host = self.headers.get("Host", "127.0.0.1")
        if path == "/og":
            return self.send(200, OG)
        if path == "/twitter":
            return self.send(200, b'<html><head><meta name="twitter:card" content="summary">'
                             b'<meta name="twitter:title" content="Tweet title">'
                             b'<meta name="twitter:description" content="Tweet text">'
                             b'<meta name="twitter:image" content="https://cdn.example.org/t.jpg"></head></html>')
        if path == "/plain":
            return self.send(200, b"<html><head><title>\n  Plain  page\n</title>"
                             b'<meta name="description" content="Only the basics"></head><body></body></html>')
        if path == "/oembed-page":
            return self.send(200, ('<html><head><link rel="alternate" type="application/json+oembed" '
                                   f'href="http://{host}/oembed.json"></head><body></body></html>').encode())
        if path == "/oembed.json":
            return self.send(200, b'{"type":"video","version":"1.0","title":"A video","author_name":"Some One",'
                             b'"provider_name":"VideoSite","thumbnail_url":"https://cdn.example.org/v.jpg"}',
                             "application/json")
        if path == "/latin1":
            return self.send(200, '<html><head><meta property="og:title" content="Caf\u00e9 cr\u00e8me">'
                             '</head></html>'.encode("latin-1"), "text/html; charset=ISO-8859-1")
        if path == "/malformed":
            body = (b"<html><head><title>Broken <b>page</title><meta property=og:description content='unquoted "
                    b"and single'><body><p><div><span>\xff\xfe\x00 stray"
                    + b"<div>" * 5000 + b'<meta property="og:title" content="Too deep">'
                    + b"<table><tr><td>unclosed" + b"</div>" * 3)
            return self.send(200, body)
        if path == "/huge":
            return self.send(200, OG.replace(b"</body></html>", b"") + b"<p>" + b"x" * (20 << 20))
        if path == "/late":
            return self.send(200, b"<html><head><!--" + b"p" * (2 << 20) + b'--><meta property="og:title" '
                             b'content="Too late"></head></html>')
        if path == "/none":
            return self.send(200, b"<html><head></head><body><p>nothing here</p></body></html>")
        if path == "/image.png":
            return self.send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")
        if path == "/slow":
            time.sleep(3)
            return self.send(200, OG)
        if path == "/redirect":
            to = parse_qs(url.query).get("to", ["/og"])[0]
            return self.send(302, b"", extra={"Location": to})
        if path.startswith("/status/"):
            return self.send(int(path.split("/")[2]), OG)
        return self.send(404, b"not found", "text/plain")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
