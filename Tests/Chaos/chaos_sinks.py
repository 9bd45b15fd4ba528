"""The alert sinks: a real SMTP server (aiosmtpd) and a real HTTP listener,
each recording what busd sends them."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from chaos_common import free_port


class SmtpSink:
    """A real SMTP server on 127.0.0.1; records every message it accepts."""

    def __init__(self):
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if message.is_multipart():
            part = message.get_body(preferencelist=("plain", "html"))
            body = part.get_content() if part is not None else ""
        else:
            body = message.get_content()
        with self.lock:
            self.messages.append({
                "time": time.monotonic(),
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "subject": str(message.get("Subject", "")),
                "to_header": str(message.get("To", "")),
                "body": body,
            })
        return "250 OK"

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.messages)

    def kinds(self) -> dict:
        out = {"firing": 0, "resolved": 0, "other": 0}
        for m in self.snapshot():
            out[alert_kind_of_subject(m["subject"])] += 1
        return out

    def stop(self):
        self.controller.stop()


def alert_kind_of_subject(subject: str) -> str:
    if subject.startswith("[socketbus] FIRING:"):
        return "firing"
    if subject.startswith("[socketbus] RESOLVED:"):
        return "resolved"
    return "other"


# --- the webhook sink (http.server in a thread) -------------------------------------------

class WebhookSink:
    """A real HTTP listener on 127.0.0.1; records every request, answers 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                with sink.lock:
                    sink.requests.append({
                        "time": time.monotonic(), "method": self.command, "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()}, "raw": raw, "json": body,
                    })
                reply = b'{"ok":true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_PUT = do_GET = _record

            def log_message(self, *args):  # keep pytest's output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-sink", daemon=True)
        self.thread.start()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.requests)

    def kinds(self) -> dict:
        out = {"firing": 0, "resolved": 0, "other": 0}
        for r in self.snapshot():
            status = (r["json"] or {}).get("status") if isinstance(r["json"], dict) else None
            out[status if status in ("firing", "resolved") else "other"] += 1
        return out

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- redis-server that dies and comes back on the same port ----------------------------
