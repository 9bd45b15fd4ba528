"""socketbus connector for python-socketio 5.x servers: makes the server a
node of a socketbus (Socket.IO + Redis) cluster through its local busd."""

from .link import DEFAULT_PATH, Link, LinkStats, LinkThread
from .cluster import ClusterError, ClusterTimeout
from .confirmations import DeliveryReport, Outcome
from .publisher import AsyncEmitter, Emitter
from .manager import ManagerStats, SocketbusAsyncManager, SocketbusManager

__all__ = [
    "AsyncEmitter",
    "DeliveryReport",
    "Emitter",
    "Outcome",
    "ClusterError",
    "ClusterTimeout",
    "DEFAULT_PATH",
    "Link",
    "LinkStats",
    "LinkThread",
    "ManagerStats",
    "SocketbusAsyncManager",
    "SocketbusManager",
]
__version__ = "0.2.0"
