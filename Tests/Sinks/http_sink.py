"""A real HTTP server for the webhook tests (standard library only).

Answers every request with the next status of --statuses (the last one
repeats), after --delay seconds, and writes one JSON line per request to
--out: method, path, headers (lower-case names) and body. --cert/--key serve
HTTPS. Prints "PORT <n>" once listening; exits when its standard input
closes.
"""

import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--statuses", default="200", help="comma-separated, e.g. 500,500,200")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    statuses = [int(s) for s in args.statuses.split(",")]
    lock = threading.Lock()
    served = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                status = statuses[min(served[0], len(statuses) - 1)]
                served[0] += 1
                with open(args.out, "a", encoding="utf-8") as out:
                    out.write(json.dumps({
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body.decode("utf-8", "replace"),
                    }) + "\n")
            time.sleep(args.delay)
            reply = b"stored" if status < 300 else b"sink says no\nsecond line"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
