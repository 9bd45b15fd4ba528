"""What the asyncio and threading managers share: the record of the
sockets busd knows of (the source of the resync after a reconnect), the
frames built from python-socketio's calls, and the handling of busd's
commands, in protocol version 2 (typed rooms, the node's own rooms choose
the targets of deliveries) or version 1 when busd answers WELCOME 1. The
managers (manager.py) only add the awaits and the threads; cluster.py has
the requests and answers of version 2.
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
from . import rooms as wire_rooms
from .cluster import ClusterMixin, json_bytes
from .frames import ApplyOp
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
    # version 2
    deliveries_to_rooms: int = 0  # DELIVER_TO_ROOMS frames handled
    applies: int = 0  # APPLY frames carried out
    questions: int = 0  # QUESTION frames received
    questions_not_answered: int = 0  # answered with status 1
    cluster_requests: int = 0  # CLUSTER_REQUEST frames sent
    cluster_requests_dropped: int = 0  # serverSideEmit with no v2 busd to send it to
    cluster_timeouts: int = 0  # replies with status 1 (or none in time)
    ack_broadcasts: int = 0  # BROADCAST_WITH_ACK frames sent
    ack_broadcasts_local_only: int = 0  # emits with a callback while no v2 busd was connected
    ack_clients_counted: int = 0  # sum of ACK_COUNT client counts
    ack_arguments: int = 0  # ACK_ARGUMENT frames relayed to callbacks
    room_channel_waits: int = 0  # enter_room()s that waited for busd to subscribe a new room's channel
    room_channel_waits_failed: int = 0  # ... that returned without busd's confirmation


_room_name = wire_rooms.room_name
_typed_room = wire_rooms.typed_room


class SocketbusCore(ClusterMixin):
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
        # Namespaces this node has served or used: each v2 session starts by
        # announcing them (NAMESPACE), so busd is counted on them at once.
        self._namespaces_seen: set = {"/"}
        self.stats = ManagerStats()
        self._setup_cluster()
        if on_server_side_emit is not None:
            self.on_server_side_emit(on_server_side_emit)
        self.link = Link(
            path, node_name=node_name, on_ready=self._on_ready, on_frame=self._on_frame,
            on_lost=self._on_lost, max_queue=max_queue, **link_options)

    # --- identity from WELCOME ----------------------------------------------

    @property
    def node_id(self) -> Optional[str]:
        """The node id busd registers this server's sockets under."""
        return self.link.welcome.node_id if self.link.welcome else None

    @property
    def uid(self) -> Optional[str]:
        """The uid busd publishes this node's broadcasts under."""
        return self.link.welcome.uid if self.link.welcome else None

    @property
    def protocol_version(self) -> Optional[int]:
        """The local protocol version of the current busd session (None while
        busd is away)."""
        return self.link.version

    def _speaks_v2(self) -> bool:
        # While busd is away, frames are built for the version of the last
        # session (the link turns a queued ROOMS_BROADCAST into a BROADCAST
        # if the next busd speaks 1).
        welcome = self.link.welcome
        return (welcome.version if welcome else self.link.protocol_version) >= 2

    def _cluster_ready(self) -> bool:
        """Whether a socketsJoin/Leave, disconnectSockets or serverSideEmit
        goes to the cluster: a v2 session, or busd away after one (queued)."""
        version = self.link.version
        return version == 2 or (version is None and self._speaks_v2())

    # --- outbound: the sockets' life -------------------------------------------

    def _wire_rooms(self, sid, namespace):
        return [_room_name(r) for r in self.get_rooms(sid, namespace) if r != sid]

    def _registry_frames(self, namespace, sid, at, v2):
        """SOCKET_CONNECT and the rooms of one socket: v1 SOCKET_JOIN with the
        rooms as text (its own id room implicit), v2 ROOMS_JOIN with every
        room typed, its own id room included."""
        out = [frames.SocketConnect(namespace, sid, at)]
        if v2:
            out.append(frames.RoomsJoin(namespace, sid, [_typed_room(r) for r in self.get_rooms(sid, namespace)]))
        else:
            rooms = self._wire_rooms(sid, namespace)
            if rooms:
                out.append(frames.SocketJoin(namespace, sid, rooms))
        return out

    def _report_connect(self, sid, namespace):
        at = int(time.time() * 1000)
        with self._lock:
            self._announced[(namespace, sid)] = at
            self._namespaces_seen.add(namespace)
            # Rooms entered in the connect handler (before busd knew the socket).
            out = self._registry_frames(namespace, sid, at, self._speaks_v2())
        for frame in out:
            self._send(frame)

    def _report_disconnect(self, sid, namespace, reason):
        with self._lock:
            known = self._announced.pop((namespace, sid), None) is not None
            self._handshakes.pop((namespace, sid), None)
        if known:
            self._send(frames.SocketDisconnect(namespace, sid, reason))

    def _report_rooms(self, join, sid, namespace, rooms):
        # A pre-connected socket's rooms go with its SOCKET_CONNECT instead.
        if (namespace, sid) not in self._announced:
            return
        if self._speaks_v2():
            typed = [_typed_room(r) for r in rooms if r is not None]
            if typed:
                self._send((frames.RoomsJoin if join else frames.RoomsLeave)(namespace, sid, typed))
            return
        names = [_room_name(r) for r in rooms if r is not None and r != sid]
        if names:
            self._send((frames.SocketJoin if join else frames.SocketLeave)(namespace, sid, names))

    def _is_local(self, sid, namespace) -> bool:
        """Whether the sid is a socket of this node (connected, in its
        connect handler, or in its disconnect handler)."""
        return self.eio_sid_from_sid(sid, namespace) is not None

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

    def _broadcast_frame(self, event, data, namespace, room, skip_sid, ack_timeout=None):
        """The BROADCAST / ROOMS_BROADCAST for an emit (a BROADCAST_WITH_ACK,
        request 0, with ``ack_timeout``), or None when it stays on this node."""
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
        packet, attachments = parts[0].encode("utf-8"), [bytes(a) for a in parts[1:]]
        if ack_timeout is not None:
            return frames.BroadcastWithAck(
                0, namespace, frames.flags_byte(), [_typed_room(r) for r in rooms], [_typed_room(s) for s in skip],
                max(0, min(0xFFFFFFFF, int(ack_timeout * 1000))), packet, attachments)
        if self._speaks_v2():
            return frames.RoomsBroadcast(
                namespace, frames.flags_byte(), [_typed_room(r) for r in rooms], [_typed_room(s) for s in skip],
                packet, attachments)
        return frames.Broadcast(
            namespace, frames.flags_byte(), [_room_name(r) for r in rooms], [_room_name(s) for s in skip],
            packet, attachments)

    def _forward(self, event, data, namespace, room, skip_sid, callback, kwargs):
        # ignore_queue=True means "do not go through the queue": local only.
        if kwargs.get("ignore_queue"):
            return
        self._namespaces_seen.add(namespace)
        if callback is not None:
            # The clients of other servers answer through busd (v2 only);
            # this node's clients answer through python-socketio's own table.
            if self.link.version != 2:
                self.stats.ack_broadcasts_local_only += 1
                return
            frame = self._broadcast_frame(event, data, namespace, room, skip_sid, ack_timeout=self.callback_timeout)
            if frame is not None:
                frames.encode(frame)  # raises ValueError to the caller, as below
                self._send_ack_broadcast(frame, callback)
            return
        frame = self._broadcast_frame(event, data, namespace, room, skip_sid)
        if frame is not None:
            # Encoded here, on the caller's thread: a broadcast the protocol
            # cannot carry (over 16 MiB, a room name over 65535 bytes) raises
            # ValueError to the application, and the link is not touched.
            encoded = frames.encode(frame)
            self.stats.broadcasts_forwarded += 1
            self._send_broadcast(encoded, namespace)

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
            arguments = json_bytes(list(args))
        except (TypeError, ValueError) as exc:
            # busd refuses an ACKED that is not a JSON array, so the
            # delivery is confirmed without its arguments instead.
            logger.warning("socketbus: ack arguments of %s are not JSON (%s); reported as []", sid, exc)
            arguments = b"[]"
        self._send(frames.Acked(ack_id, sid, frames.AckStatus.DELIVERED, arguments))
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
        return self._snapshot(welcome.version >= 2)

    def _served_namespaces(self):
        names = set(self._namespaces_seen) | {ns for ns in self.rooms}
        server = self.server
        for table in (getattr(server, "handlers", None), getattr(server, "namespace_handlers", None)):
            names.update(ns for ns in (table or {}) if isinstance(ns, str) and ns != "*")
        listed = getattr(server, "namespaces", None)
        if isinstance(listed, (list, tuple)):
            names.update(ns for ns in listed if isinstance(ns, str) and ns != "*")
        return sorted(names)

    def _snapshot(self, v2=False):
        """What busd must know after WELCOME: v2 NAMESPACE for every namespace
        served, then SOCKET_CONNECT and the rooms of every local socket."""
        out = []
        with self._lock:
            if v2:
                out += [frames.Namespace(ns) for ns in self._served_namespaces()]
            for (namespace, sid), at in list(self._announced.items()):
                out += self._registry_frames(namespace, sid, at, v2)
        return out

    def _select(self, namespace, rooms, except_rooms):
        """[(sid, eio_sid)] of this node's sockets chosen by its own rooms
        (the in-memory adapter's rule); sockets still in their connect
        handler are left out, as busd does not know them yet."""
        # (python-socketio < 5.13 has no pending_connect: it registers a
        # socket only once its connect handler has accepted it.)
        pending = getattr(self, "pending_connect", {}).get(namespace, ())
        return wire_rooms.select(self.rooms.get(namespace, {}), rooms, except_rooms, pending)

    def _handle_command(self, frame):
        """Carries out one of busd's commands; returns the (eio_sid, packet)
        pairs a delivery writes, for the async or threading manager to send."""
        if isinstance(frame, frames.DeliverToRooms):
            return [(eio_sid, pkt) for eio_sid, packets in self._plan_delivery_to_rooms(frame) for pkt in packets]
        if isinstance(frame, frames.Deliver):
            return [(eio_sid, pkt) for eio_sid, packets in self._plan_delivery(frame) for pkt in packets]
        if isinstance(frame, frames.Apply):
            if frame.op in tuple(frames.ApplyOp):
                self._apply(frame.op, frame.namespace, frame.rooms, frame.except_rooms, frame.targets, frame.close)
        elif isinstance(frame, frames.Question):
            self._on_question(frame)
        elif isinstance(frame, frames.ClusterReply):
            self._on_cluster_reply(frame)
        elif isinstance(frame, frames.AckCount):
            self._on_ack_count(frame)
        elif isinstance(frame, frames.AckArgument):
            self._on_ack_argument(frame)
        elif isinstance(frame, frames.SocketsJoin):
            self._apply_rooms(frame, join=True)
        elif isinstance(frame, frames.SocketsLeave):
            self._apply_rooms(frame, join=False)
        elif isinstance(frame, frames.SocketsDisconnect):
            for sid, eio_sid in self._disconnect_targets(frame):
                self._disconnect_now(sid, eio_sid, frame.namespace, frame.close)
        elif isinstance(frame, frames.ServerSideEmit):
            call = self._server_side_emit(frame)
            if call is not None:
                self._run_handler(call[0], (frame.namespace, call[1], call[2]), self._callback_done)
        return ()

    def _plan_delivery(self, frame):
        """[(eio_sid, engine.io packets)] for the DELIVER's targets still here;
        registers the ack id for each before anything is written (a fast
        client may ack at once)."""
        self.stats.deliveries += 1
        return self._plan_writes(frame, [(sid, self.eio_sid_from_sid(sid, frame.namespace))
                                         for sid in frame.socket_ids])

    def _plan_delivery_to_rooms(self, frame):
        """The same for a DELIVER_TO_ROOMS, its targets chosen by this node's
        rooms now; with an ack id, DELIVERED (the sids written to) goes to
        busd before anything is written, so it precedes every ACKED."""
        self.stats.deliveries_to_rooms += 1
        with self._lock:
            targets = self._select(frame.namespace, frame.rooms, frame.except_rooms)
        written = []
        plan = self._plan_writes(frame, targets, written)
        if frame.ack_id:
            self._send(frames.Delivered(frame.ack_id, frame.namespace, written))
        return plan

    def _plan_writes(self, frame, targets, written=None):
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
        for sid, eio_sid in targets:
            if eio_sid is None:
                self.stats.missing_targets += 1
                continue
            if volatile and not self._writable(eio_sid):
                self.stats.volatile_dropped += 1
                continue
            if frame.ack_id:
                self._register_ack(sid, frame.ack_id)
            if written is not None:
                written.append(sid)
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

    def _apply(self, op, namespace, rooms, except_rooms, targets, close):
        """An APPLY (socketsJoin/socketsLeave/disconnectSockets from anywhere
        in the cluster, this node's own included) on the sockets chosen by
        this node's rooms. Room changes are reported to busd (ROOMS_JOIN /
        ROOMS_LEAVE) for its registry; disconnects report themselves."""
        self.stats.applies += 1
        with self._lock:
            chosen = [(sid, eio_sid) for sid, eio_sid in self._select(namespace, rooms, except_rooms)
                      if self.is_connected(sid, namespace)]
            if op == ApplyOp.DISCONNECT:
                pass
            else:
                for sid, _ in chosen:
                    changed = []
                    for room in targets:
                        inside = self._in_room(sid, namespace, room)
                        if op == ApplyOp.JOIN and not inside:
                            try:
                                self.basic_enter_room(sid, namespace, room)
                            except ValueError:  # another socket's id room
                                continue
                            changed.append(room)
                        elif op == ApplyOp.LEAVE and inside:
                            self.basic_leave_room(sid, namespace, room)
                            changed.append(room)
                    if changed:
                        self._report_rooms(op == ApplyOp.JOIN, sid, namespace, changed)
                return
        for sid, eio_sid in chosen:
            self._disconnect_now(sid, eio_sid, namespace, close)

    def _sockets_request(self, kind, namespace, to, skip, rooms=None, close=None):
        """The body of a socketsJoin / socketsLeave / disconnectSockets request."""
        opts = {"rooms": _target_list(to), "except": _target_list(skip)}
        if kind == frames.ClusterKind.DISCONNECT_SOCKETS:
            return {"opts": opts, "close": bool(close)}
        return {"opts": opts, "rooms": _target_list(rooms)}

    def _server_side_emit(self, frame):
        """(handler, event, args) of a SERVER_SIDE_EMIT when a handler wants it."""
        self.stats.server_side_emits += 1
        try:
            data = json.loads(frame.data)
        except ValueError:
            data = None
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            logger.warning("socketbus: SERVER_SIDE_EMIT data is not [event, ...args]; dropped")
            return None
        handler = self._server_side_emit_handler()
        if handler is None:
            # python-socketio has no serverSideEmit, so no server handler
            # matches; the application may register on_server_side_emit.
            logger.info("socketbus: serverSideEmit %r on %s ignored (no on_server_side_emit handler)",
                        data[0], frame.namespace)
            return None
        return handler, data[0], data[1:]

    def _warn_once(self, key, message):
        if key not in self._warned:
            self._warned.add(key)
            logger.warning(message)


def _target_list(value) -> list:
    """None, one room, or several (python-socketio's ``to`` / ``skip_sid``
    forms) as a list of typed rooms."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)) or not hasattr(value, "__iter__"):
        value = [value]
    return [_typed_room(r) for r in value if r is not None]
