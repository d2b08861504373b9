#!/usr/bin/env python3
"""A loopback HTTP server for particle's tests: serves a directory with Range support, and
cuts the first response for every file with FLAKY in its path after half the bytes (so the
client must retry and resume). Prints the port, then serves until killed."""
import http.server, os, sys, threading

root = sys.argv[1]
flaky = sys.argv[2] if len(sys.argv) > 2 else ""
log = open(sys.argv[3], "a") if len(sys.argv) > 3 else None
served_once = set()
lock = threading.Lock()

class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        path = os.path.normpath(os.path.join(root, self.path.lstrip("/")))
        if not path.startswith(os.path.abspath(root)) or not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        start = 0
        rng = self.headers.get("Range")
        if log:
            with lock:
                log.write(f"GET {self.path} range={rng}\n")
                log.flush()
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data)-1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = False
        if flaky and flaky in self.path:
            with lock:
                if self.path not in served_once:
                    served_once.add(self.path)
                    cut = True
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
