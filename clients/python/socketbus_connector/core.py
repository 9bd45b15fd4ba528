"""What the asyncio and threading managers share: the record of the
sockets busd knows of (the source of the resync after a reconnect), the
frames built from python-socketio's calls, and the handling of busd's
commands. The managers (manager.py) only add the awaits and the threads.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Optional

from engineio import packet as eio_packet
from socketio import packet as sio_packet

from . import frames
from .link import Link

logger = logging.getLogger("socketbus_connector")


@dataclass
class ManagerStats:
    broadcasts_forwarded: int = 0
    broadcasts_unencodable: int = 0  # packet_class does not make socket.io strings
    deliveries: int = 0  # DELIVER frames handled
    writes: int = 0  # (socket, packet) pairs written to engine.io
    missing_targets: int = 0  # DELIVER named a socket that is gone
    volatile_dropped: int = 0
    acks_registered: int = 0
    acks_reported: int = 0
    acks_expired: int = 0
    server_side_emits: int = 0


def _room_name(room) -> str:
    # python-socketio accepts any hashable room name; the wire carries text.
    return room if isinstance(room, str) else str(room)


def _json_default(value):
    # Binary ack arguments, shaped as Node's JSON.stringify writes a Buffer.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"type": "Buffer", "data": list(bytes(value))}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class SocketbusCore:
    """Mixin for a python-socketio manager class; see the module docstring."""

    def _setup(self, path, node_name, max_queue, on_server_side_emit, ack_sweep_interval, link_options):
        # RLock: basic_disconnect calls basic_leave_room, both guarded in the sync manager.
        self._lock = threading.RLock()
        # (namespace, sid) -> connected_at ms, for the sockets busd was told
        # about: the source of the resync after a reconnect.
        self._announced: dict = {}
        self._ack_timeout = 30.0
        # (deadline, sid, ack id), oldest first; the timeout is fixed per
        # busd session, so appending keeps it (nearly) sorted.
        self._ack_deadlines: deque = deque()
        self._ack_sweep_interval = ack_sweep_interval
        self._warned: set = set()
        self.on_server_side_emit = on_server_side_emit
        self.stats = ManagerStats()
        self.link = Link(
            path, node_name=node_name, on_ready=self._on_ready, on_frame=self._on_frame,
            max_queue=max_queue, **link_options)

    # --- identity from WELCOME ----------------------------------------------

    @property
    def node_id(self) -> Optional[str]:
        """The node id busd registers this server's sockets under."""
        return self.link.welcome.node_id if self.link.welcome else None

    @property
    def uid(self) -> Optional[str]:
        """The uid busd publishes this node's broadcasts under."""
        return self.link.welcome.uid if self.link.welcome else None

    # --- outbound: the sockets' life -------------------------------------------

    def _wire_rooms(self, sid, namespace):
        return [_room_name(r) for r in self.get_rooms(sid, namespace) if r != sid]

    def _report_connect(self, sid, namespace):
        at = int(time.time() * 1000)
        with self._lock:
            self._announced[(namespace, sid)] = at
            # Rooms entered in the connect handler (before busd knew the socket).
            rooms = self._wire_rooms(sid, namespace)
        self._send(frames.SocketConnect(namespace, sid, at))
        if rooms:
            self._send(frames.SocketJoin(namespace, sid, rooms))

    def _report_disconnect(self, sid, namespace, reason):
        with self._lock:
            known = self._announced.pop((namespace, sid), None) is not None
        if known:
            self._send(frames.SocketDisconnect(namespace, sid, reason))

    def _report_rooms(self, frame_class, sid, namespace, rooms):
        # A pre-connected socket's rooms go with its SOCKET_CONNECT instead.
        if (namespace, sid) not in self._announced:
            return
        names = [_room_name(r) for r in rooms if r is not None and r != sid]
        if names:
            self._send(frame_class(namespace, sid, names))

    def _in_room(self, sid, namespace, room) -> bool:
        return sid in self.rooms.get(namespace, {}).get(room, ())

    def _disconnect_reason(self, sid, namespace) -> str:
        # python-socketio does not pass the reason to the manager; the engine.io
        # session tells a lost transport from a namespace-level disconnect.
        eio_sid = self.eio_sid_from_sid(sid, namespace)
        sock = getattr(getattr(self.server, "eio", None), "sockets", {}).get(eio_sid)
        if sock is None or sock.closed or sock.closing:
            return "transport close"
        return "namespace disconnect"

    def _is_sid_room(self, namespace, room):
        """Whether `room` is a socket's own room (its sid) on this node.
        python-socketio has is_sid_room only from 5.15 on; every 5.x from the
        floor (5.10) keeps the connected sids in rooms[namespace][None]."""
        return room in self.rooms.get(namespace, {}).get(None, {})

    # --- outbound: broadcasts ------------------------------------------------------

    def _broadcast_frame(self, event, data, namespace, room, skip_sid):
        """The BROADCAST for an emit, or None when it stays on this node."""
        if room is None:
            rooms = []
        elif isinstance(room, str) or not hasattr(room, "__len__"):
            rooms = [room]
        else:
            rooms = list(room)
        # Addressed only to sockets of this node (their sid rooms): the
        # cluster has nothing to do with it.
        if rooms and all(self._is_sid_room(namespace, r) for r in rooms):
            return None
        if skip_sid is None:
            skip = []
        elif isinstance(skip_sid, list):
            skip = [s for s in skip_sid if s is not None]
        else:
            skip = [skip_sid]
        # The same argument rules as AsyncManager.emit.
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event] + data).encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        if not isinstance(parts[0], str):
            self.stats.broadcasts_unencodable += 1
            self._warn_once("msgpack", "socketbus: the server's packet_class does not encode Socket.IO "
                            "packet strings (msgpack serializer?); broadcasts stay local")
            return None
        return frames.Broadcast(
            namespace, frames.flags_byte(), [_room_name(r) for r in rooms], [_room_name(s) for s in skip],
            parts[0].encode("utf-8"), [bytes(a) for a in parts[1:]])

    def _forward(self, event, data, namespace, room, skip_sid, callback, kwargs):
        # With a callback the ack must come back to this process: python-
        # socketio's acks are per socket, so such emits stay local (like
        # ignore_queue=True, which means "do not go through the queue").
        if callback is not None or kwargs.get("ignore_queue"):
            return
        frame = self._broadcast_frame(event, data, namespace, room, skip_sid)
        if frame is not None:
            # Encoded here, on the caller's thread: a broadcast the protocol
            # cannot carry (over 16 MiB, a room name over 65535 bytes) raises
            # ValueError to the application, and the link is not touched.
            encoded = frames.encode(frame)
            self.stats.broadcasts_forwarded += 1
            self._send_broadcast(encoded)

    # --- acks --------------------------------------------------------------------

    def _register_ack(self, sid, ack_id):
        with self._lock:
            # {0: counter} is how BaseManager._generate_ack_id finds a table.
            table = self.callbacks.setdefault(sid, {0: itertools.count(1)})
            table[ack_id] = functools.partial(self._client_acked, ack_id, sid)
            self._ack_deadlines.append((time.monotonic() + self._ack_timeout, sid, ack_id))
        self.stats.acks_registered += 1

    def _client_acked(self, ack_id, sid, *args):
        try:
            arguments = json.dumps(list(args), separators=(",", ":"), default=_json_default, allow_nan=False)
        except (TypeError, ValueError) as exc:
            # busd closes the link on an ACKED that is not a JSON array, so
            # the delivery is confirmed without its arguments instead.
            logger.warning("socketbus: ack arguments of %s are not JSON (%s); reported as []", sid, exc)
            arguments = "[]"
        self._send(frames.Acked(ack_id, sid, frames.AckStatus.DELIVERED, arguments.encode("utf-8")))
        self.stats.acks_reported += 1

    def _expire_acks(self):
        """Forgets ack ids older than WELCOME's ack_timeout_ms. No ACKED
        `timeout` is sent: busd times its ids out itself."""
        now = time.monotonic()
        with self._lock:
            while self._ack_deadlines and self._ack_deadlines[0][0] <= now:
                _, sid, ack_id = self._ack_deadlines.popleft()
                table = self.callbacks.get(sid)
                if table is not None and table.pop(ack_id, None) is not None:
                    self.stats.acks_expired += 1

    def _take_callback(self, sid, id):
        with self._lock:
            table = self.callbacks.get(sid)
            callback = table.pop(id, None) if table is not None and id != 0 else None
        if callback is None:
            self._get_logger().warning("Unknown callback received, ignoring.")
        return callback

    # --- inbound: busd's frames --------------------------------------------------

    def _on_ready(self, welcome):
        self._ack_timeout = welcome.ack_timeout_ms / 1000.0
        return self._snapshot()

    def _snapshot(self):
        """SOCKET_CONNECT + SOCKET_JOIN for every local socket busd should know."""
        out = []
        with self._lock:
            for (namespace, sid), at in list(self._announced.items()):
                out.append(frames.SocketConnect(namespace, sid, at))
                rooms = self._wire_rooms(sid, namespace)
                if rooms:
                    out.append(frames.SocketJoin(namespace, sid, rooms))
        return out

    def _plan_delivery(self, frame):
        """[(eio_sid, engine.io packets)] for the DELIVER's targets still here;
        registers the ack id for each before anything is written (a fast
        client may ack at once)."""
        self.stats.deliveries += 1
        self._expire_acks()
        try:
            text = frame.packet.decode("utf-8")
        except UnicodeDecodeError:
            logger.warning("socketbus: DELIVER packet is not UTF-8; dropped")
            return []
        volatile, _compress = frames.parse_flags(frame.flags)
        # Built once and shared by every target, like AsyncManager.emit; the
        # engine.io packet caches its encoding. The socket.io packet string is
        # written as is, then each attachment as a binary message.
        packets = [eio_packet.Packet(eio_packet.MESSAGE, text)]
        packets += [eio_packet.Packet(eio_packet.MESSAGE, bytes(a)) for a in frame.attachments]
        plan = []
        for sid in frame.socket_ids:
            eio_sid = self.eio_sid_from_sid(sid, frame.namespace)
            if eio_sid is None:
                self.stats.missing_targets += 1
                continue
            if volatile and not self._writable(eio_sid):
                self.stats.volatile_dropped += 1
                continue
            if frame.ack_id:
                self._register_ack(sid, frame.ack_id)
            plan.append((eio_sid, packets))
            self.stats.writes += 1
        return plan

    def _writable(self, eio_sid) -> bool:
        # engine.io has no "writable" flag: a session that is closing or
        # upgrading, or whose send queue has not drained (a polling client
        # between requests, a slow websocket), counts as not writable.
        sock = getattr(self.server.eio, "sockets", {}).get(eio_sid)
        if sock is None or sock.closed or sock.closing or sock.upgrading:
            return False
        queue = getattr(sock, "queue", None)
        try:
            return queue is None or queue.empty()
        except Exception:  # noqa: BLE001 - an exotic queue: assume writable
            return True

    def _apply_rooms(self, frame, join: bool):
        # busd already updated its registry: no SOCKET_JOIN/LEAVE goes back.
        for sid in frame.socket_ids:
            if self.eio_sid_from_sid(sid, frame.namespace) is None:
                continue
            for room in frame.rooms:
                if join:
                    try:
                        self.basic_enter_room(sid, frame.namespace, room)
                    except ValueError:  # another socket's sid room
                        pass
                else:
                    self.basic_leave_room(sid, frame.namespace, room)

    def _disconnect_targets(self, frame):
        """[(sid, eio_sid)] of the SOCKETS_DISCONNECT targets still connected."""
        return [(sid, self.eio_sid_from_sid(sid, frame.namespace))
                for sid in frame.socket_ids if self.is_connected(sid, frame.namespace)]

    def _server_side_emit(self, frame):
        """(event, args) of a SERVER_SIDE_EMIT when a handler wants it."""
        self.stats.server_side_emits += 1
        try:
            data = json.loads(frame.data)
        except ValueError:
            data = None
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            logger.warning("socketbus: SERVER_SIDE_EMIT data is not [event, ...args]; dropped")
            return None
        if self.on_server_side_emit is None:
            # python-socketio has no serverSideEmit, so no server handler
            # matches; the application may pass on_server_side_emit.
            logger.info("socketbus: serverSideEmit %r on %s ignored (no on_server_side_emit handler)",
                        data[0], frame.namespace)
            return None
        return data[0], data[1:]

    def _warn_once(self, key, message):
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)
