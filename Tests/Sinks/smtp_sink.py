"""A real SMTP server for the alerting tests (aiosmtpd).

Writes one JSON line per received message to --out: mail_from, rcpt_tos,
data (the message as received, dot-stuffing undone), tls (whether the
session was encrypted) and authenticated. Prints "PORT <n>" once it accepts
connections. Exits when its standard input closes, so a crashed test leaves
no server behind.

Modes: plain (no TLS), starttls (offers STARTTLS; --require-starttls refuses
mail without it), tls (implicit TLS from the first byte). --auth user:password
requires AUTH (PLAIN/LOGIN); --auth-require-tls refuses AUTH before TLS.
"""

import argparse
import json
import os
import socket
import ssl
import sys
import threading

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError as error:  # the test reports this as a failure, with this text
    print(f"aiosmtpd is not importable by {sys.executable} ({error}); "
          "run `make deps-test` and put .venv/bin first on PATH (make test does)", file=sys.stderr, flush=True)
    sys.exit(3)


class Recorder:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
        }
        with self.lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return "250 OK stored"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--auth", help="user:password that AUTH accepts; AUTH is then required")
    parser.add_argument("--auth-require-tls", action="store_true")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    kwargs = {}
    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    if args.mode == "starttls":
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = args.require_starttls
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password
            # handled=False: aiosmtpd then answers 535 itself (its default, True,
            # means "the authenticator already replied" and leaves the client waiting).
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.auth_require_tls)

    controller = None
    for _ in range(5):
        port = free_port()
        try:
            controller = Controller(Recorder(args.out), hostname="127.0.0.1", port=port,
                                    ssl_context=context if args.mode == "tls" else None, **kwargs)
            controller.start()
            break
        except Exception as error:  # the port was taken meanwhile: try another
            last_error = error
            controller = None
    if controller is None:
        print(f"smtp sink did not start: {last_error}", file=sys.stderr, flush=True)
        sys.exit(1)
    print(f"PORT {port}", flush=True)
    sys.stdin.read()  # until the test closes our stdin (or dies)
    controller.stop()
    os._exit(0)


if __name__ == "__main__":
    main()
