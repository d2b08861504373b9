#!/usr/bin/env python3
"""A loopback HTTP server for particle's tests: serves a directory with Range support, and
cuts the first response for every file with FLAKY in its path after half the bytes (so the
client must retry and resume). Prints the port, then serves until killed.

    flaky_http.py ROOT [FLAKY [LOG [DIE_AFTER DIE_ON [PORT]]]]

LOG gets one line per request (`GET PATH range=...`) and, for every response sent whole,
`SENT PATH`. With DIE_AFTER N and DIE_ON PATTERN, the server dies like a killed one: the
first N responses whose path contains PATTERN are sent whole (each logged `SENT`), the next
such request waits until those have been written, sends half its body and the process exits
at once (`os._exit`), cutting every connection (logged `DIED PATH`). PORT binds that port (0,
the default: any free one), so a server can be started again where a dead one listened."""
import http.server, os, sys, threading

root = sys.argv[1]
flaky = sys.argv[2] if len(sys.argv) > 2 else ""
log = open(sys.argv[3], "a") if len(sys.argv) > 3 and sys.argv[3] else None
die_after = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else None
die_on = sys.argv[5] if len(sys.argv) > 5 else ""
port = int(sys.argv[6]) if len(sys.argv) > 6 else 0
served_once = set()
lock = threading.Condition()
# Responses matching DIE_ON: begun (numbered) and written whole.
begun = 0
written = 0


def note(line):
    if log:
        with lock:
            log.write(line + "\n")
            log.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_GET(self):
        global begun, written
        path = os.path.normpath(os.path.join(root, self.path.lstrip("/")))
        if not path.startswith(os.path.abspath(root)) or not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        start = 0
        rng = self.headers.get("Range")
        note(f"GET {self.path} range={rng}")
        number = None
        if die_after is not None and die_on in self.path:
            with lock:
                begun += 1
                number = begun
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data)-1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if number is not None and number > die_after:
            # Killed mid-response, after the first DIE_AFTER were written whole.
            with lock:
                while written < die_after:
                    lock.wait()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            note(f"DIED {self.path}")
            os._exit(0)
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
        self.wfile.flush()
        note(f"SENT {self.path}")
        if number is not None:
            with lock:
                written += 1
                lock.notify_all()


srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
