"""What every Python test harness here needs: a free loopback port, and
polling until something holds. Imported by Tests/EndToEnd, Tests/Dist and
Tests/Interop (each puts this folder on sys.path); the Python connector's
own tests keep their copy, so that they run from the connector's folder."""

import socket
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, what="condition", interval=0.02):
    """Polls predicate until it returns something truthy, and returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
