"""Client managers that make a python-socketio 5.x server a node of a
socketbus cluster: the server keeps its own in-memory rooms (so everything
local works as with the stock manager, and its rooms choose the targets of
every delivery) and the manager mirrors the sockets' life to busd, forwards
the server's broadcasts, carries out what busd asks, answers what other
servers ask, and offers the cluster-wide calls of socket.io's adapter
(``server_count``, ``fetch_sockets``, ``all_rooms``, ``sockets_join`` ...).

``SocketbusAsyncManager`` is for ``socketio.AsyncServer``;
``SocketbusManager`` for ``socketio.Server`` in ``threading`` mode (its busd
link runs on an asyncio loop in a daemon thread).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any, Callable, Optional

from socketio.async_manager import AsyncManager
from socketio.manager import Manager

from . import frames
from .cluster import REPLY_GRACE, ClusterError, ClusterTimeout
from .core import ManagerStats, SocketbusCore, _target_list
from .frames import ClusterKind
from .link import LinkThread

__all__ = ["ClusterError", "ClusterTimeout", "ManagerStats", "SocketbusAsyncManager", "SocketbusManager"]

# socketio.Server.call()'s default time-out: how long other servers relay
# the acks of an emit with a callback.
DEFAULT_CALLBACK_TIMEOUT = 60.0
DEFAULT_REQUEST_TIMEOUT = 5.0  # the stock adapter's requestsTimeout

class SocketbusAsyncManager(SocketbusCore, AsyncManager):
    """Client manager for ``socketio.AsyncServer``::

        mgr = SocketbusAsyncManager(path="/run/socketbus/busd.sock")
        sio = socketio.AsyncServer(client_manager=mgr, async_mode="aiohttp")

    The link to busd starts with the first client (or ``await mgr.start()``).
    ``on_server_side_emit(namespace, event, args)``, plain or async, receives
    other processes' ``serverSideEmit``s (its return value answers an acked
    one). ``callback_timeout`` bounds how long the acks of an emit with a
    callback are relayed from other servers; ``requests_timeout`` (seconds,
    the stock adapter's ``requestsTimeout``) is the default ``timeout`` of
    the cluster calls.
    """

    name = "socketbus"

    def __init__(self, path: Optional[str] = None, *, node_name: Optional[str] = None, max_queue: int = 10_000,
                 on_server_side_emit: Optional[Callable[..., Any]] = None, logger=None,
                 ack_sweep_interval: float = 1.0, callback_timeout: float = DEFAULT_CALLBACK_TIMEOUT,
                 requests_timeout: float = DEFAULT_REQUEST_TIMEOUT, **link_options):
        AsyncManager.__init__(self)
        self.logger = logger
        self.callback_timeout = callback_timeout
        self.requests_timeout = requests_timeout
        self._setup(path, node_name, max_queue, on_server_side_emit, ack_sweep_interval, link_options)
        self._sweeper: Optional[asyncio.Task] = None
        self._tasks: set = set()

    def initialize(self):
        super().initialize()
        self._ensure_link()

    def _ensure_link(self) -> bool:
        if self.link.closed:
            return False
        try:
            self.link.start()
        except RuntimeError:  # no running loop yet; the first emit or client starts it
            return False
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        return True

    async def start(self, wait: bool = True, timeout: Optional[float] = None) -> bool:
        """Starts the link; with ``wait``, returns whether busd answered in time."""
        self._ensure_link()
        return await self.link.wait_ready(timeout) if wait else True

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        await self.link.close()

    async def _sweep(self):
        while True:
            await asyncio.sleep(self._ack_sweep_interval)
            self._expire_acks()

    def _send(self, frame):
        self.link.send(frame)

    def _send_broadcast(self, frame, namespace=None):
        self._ensure_link()
        self.link.send_broadcast(frame, namespace)

    def _send_ack_broadcast(self, frame, callback):
        self._ensure_link()
        self._start_ack_broadcast(frame, callback)

    def _run_handler(self, fn, args, done):
        """Runs an application handler (plain: now; async: as a task beside
        the link) and hands its outcome to done(ok, result)."""
        try:
            result = fn(*args)
        except Exception as exc:  # noqa: BLE001 - the application's error
            return done(False, exc)
        if not inspect.isawaitable(result):
            return done(True, result)

        async def wait():
            try:
                value = await result
            except Exception as exc:  # noqa: BLE001
                return done(False, exc)
            done(True, value)

        self._spawn(wait())

    def _disconnect_now(self, sid, eio_sid, namespace, close):
        if close:  # the whole engine.io connection, every namespace
            self._spawn(self.server.eio.disconnect(eio_sid))
        else:
            self._spawn(self.server.disconnect(sid, namespace=namespace, ignore_queue=True))

    def _spawn(self, coroutine):
        # Application handlers run beside the link, so a slow one does not
        # hold up deliveries.
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- python-socketio hooks -------------------------------------------------

    async def connect(self, sid, namespace):
        sid = await super().connect(sid, namespace)
        self._report_connect(sid, namespace)
        return sid

    async def disconnect(self, sid, namespace, **kwargs):
        reason = self._disconnect_reason(sid, namespace)
        result = await super().disconnect(sid, namespace, **kwargs)
        self._report_disconnect(sid, namespace, reason)
        return result

    async def can_disconnect(self, sid, namespace):
        if self._is_local(sid, namespace) or not self._cluster_ready():
            return await super().can_disconnect(sid, namespace)
        # A socket of another server: disconnectSockets on its id room.
        self._cluster_send(ClusterKind.DISCONNECT_SOCKETS, namespace or "/",
                           self._sockets_request(ClusterKind.DISCONNECT_SOCKETS, namespace, sid, None, close=False))
        return False

    async def enter_room(self, sid, namespace, room, eio_sid=None):
        if eio_sid is None and not self._is_local(sid, namespace) and self._cluster_ready():
            # A socket of another server: socketsJoin on its id room.
            return self._cluster_send(ClusterKind.ADD_SOCKETS, namespace,
                                      self._sockets_request(ClusterKind.ADD_SOCKETS, namespace, sid, None, room))
        already = self._in_room(sid, namespace, room)
        fresh = not self.rooms.get(namespace, {}).get(room)
        result = await super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        if not already:
            self._report_rooms(True, sid, namespace, [room])
            if fresh:
                await self._await_room_channels(namespace, [room])
        return result

    async def leave_room(self, sid, namespace, room):
        if not self._is_local(sid, namespace) and self._cluster_ready():
            return self._cluster_send(ClusterKind.DEL_SOCKETS, namespace,
                                      self._sockets_request(ClusterKind.DEL_SOCKETS, namespace, sid, None, room))
        was_in = self._in_room(sid, namespace, room)
        result = await super().leave_room(sid, namespace, room)
        if was_in:
            self._report_rooms(False, sid, namespace, [room])
        return result

    async def close_room(self, room, namespace):
        members = [sid for sid, _ in self.get_participants(namespace, room)]
        result = await super().close_room(room, namespace)
        for sid in members:
            self._report_rooms(False, sid, namespace, [room])
        if self._cluster_ready():
            # Every other server empties it too (socketsLeave of the room).
            self._cluster_send(ClusterKind.DEL_SOCKETS, namespace or "/",
                               self._sockets_request(ClusterKind.DEL_SOCKETS, namespace, room, None, room))
        return result

    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        self._forward(event, data, namespace or "/", room, skip_sid, callback, kwargs)
        return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)

    async def trigger_callback(self, sid, id, data):
        callback = self._take_callback(sid, id)
        if callback is not None:
            result = callback(*data)
            if inspect.iscoroutine(result):
                await result

    # --- busd's commands -------------------------------------------------------

    async def _on_frame(self, frame):
        for eio_sid, pkt in self._handle_command(frame):
            await self.server._send_eio_packet(eio_sid, pkt)

    # --- the cluster-wide calls of socket.io's adapter ----------------------------------------

    async def server_count(self, namespace: str = "/", timeout: Optional[float] = None) -> int:
        """``io.of(namespace).serverCount()``: servers subscribed to the
        namespace's request channel (stock nodes and busd nodes), this one
        included."""
        self._ensure_link()
        return await self._a_server_count(namespace, timeout)

    async def fetch_sockets(self, namespace: str = "/", to=None, skip=None,
                            timeout: Optional[float] = None) -> list:
        """``io.in(to).except(skip).fetchSockets()``: dicts ``{id, handshake,
        rooms, data}`` of the matching sockets of every server, this one
        first. Raises ClusterTimeout (``partial``: what arrived) when a
        server did not answer in time."""
        self._ensure_link()
        self._namespaces_seen.add(namespace)
        return await self._a_fetch_sockets(namespace, _target_list(to), _target_list(skip), timeout)

    async def all_rooms(self, namespace: str = "/", timeout: Optional[float] = None) -> set:
        """The adapter's ``allRooms()``: every room of every server (socket
        id rooms included)."""
        self._ensure_link()
        self._namespaces_seen.add(namespace)
        return await self._a_all_rooms(namespace, timeout)

    async def sockets_join(self, rooms, namespace: str = "/", to=None, skip=None) -> None:
        """``io.in(to).except(skip).socketsJoin(rooms)`` on every server
        (this one when busd's request comes back, as with the stock adapter)."""
        self._ensure_link()
        self._cluster_send(ClusterKind.ADD_SOCKETS, namespace,
                           self._sockets_request(ClusterKind.ADD_SOCKETS, namespace, to, skip, rooms))

    async def sockets_leave(self, rooms, namespace: str = "/", to=None, skip=None) -> None:
        """``io.in(to).except(skip).socketsLeave(rooms)`` on every server."""
        self._ensure_link()
        self._cluster_send(ClusterKind.DEL_SOCKETS, namespace,
                           self._sockets_request(ClusterKind.DEL_SOCKETS, namespace, to, skip, rooms))

    async def disconnect_sockets(self, namespace: str = "/", to=None, skip=None, close: bool = False) -> None:
        """``io.in(to).except(skip).disconnectSockets(close)`` on every server."""
        self._ensure_link()
        self._cluster_send(ClusterKind.DISCONNECT_SOCKETS, namespace,
                           self._sockets_request(ClusterKind.DISCONNECT_SOCKETS, namespace, to, skip, close=close))

    async def server_side_emit(self, event: str, *args, namespace: str = "/") -> None:
        """``io.of(namespace).serverSideEmit(event, ...args)``: to the other
        servers' handlers (not this one's, as with socket.io)."""
        self._ensure_link()
        self._cluster_send(ClusterKind.SERVER_SIDE_EMIT, namespace, [event, *args])

    async def server_side_emit_with_ack(self, event: str, *args, namespace: str = "/",
                                        timeout: Optional[float] = None) -> list:
        """``serverSideEmitWithAck``: the list of the other servers' answers;
        ClusterTimeout (``partial``: the answers that came) when some did
        not answer in time."""
        self._ensure_link()
        return await self._a_server_side_emit_with_ack(namespace, event, args, timeout)

    async def cluster_participants(self, namespace: str, room, timeout: Optional[float] = None) -> list:
        """get_participants across the cluster: the sids in ``room`` (or
        rooms) on every server."""
        return [s["id"] for s in await self.fetch_sockets(namespace, to=room, timeout=timeout)]

    async def cluster_rooms(self, sid: str, namespace: str = "/", timeout: Optional[float] = None) -> list:
        """get_rooms across the cluster: the rooms of ``sid`` wherever it is
        connected (its own id room included); [] when nobody has it."""
        for described in await self.fetch_sockets(namespace, to=sid, timeout=timeout):
            if described.get("id") == sid:
                return list(described.get("rooms") or [])
        return []


class SocketbusManager(SocketbusCore, Manager):
    """Client manager for ``socketio.Server(async_mode="threading")``. The
    link to busd runs on its own event loop in a daemon thread; busd's
    commands are carried out there (application handlers go to background
    tasks). eventlet and gevent modes are not supported."""

    name = "socketbus"

    def __init__(self, path: Optional[str] = None, *, node_name: Optional[str] = None, max_queue: int = 10_000,
                 on_server_side_emit: Optional[Callable[..., Any]] = None, logger=None,
                 ack_sweep_interval: float = 1.0, callback_timeout: float = DEFAULT_CALLBACK_TIMEOUT,
                 requests_timeout: float = DEFAULT_REQUEST_TIMEOUT, **link_options):
        Manager.__init__(self)
        self.logger = logger
        self.callback_timeout = callback_timeout
        self.requests_timeout = requests_timeout
        self._setup(path, node_name, max_queue, on_server_side_emit, ack_sweep_interval, link_options)
        self.link_thread = LinkThread(self.link)
        self._sweeper_started = False

    def initialize(self):
        super().initialize()
        self._ensure_link()

    def _ensure_link(self):
        self.link_thread.start()
        if not self._sweeper_started:
            self._sweeper_started = True
            self.link_thread.call(self._schedule_sweep)

    def _schedule_sweep(self):
        self._expire_acks()
        self.link_thread.loop.call_later(self._ack_sweep_interval, self._schedule_sweep)

    def start(self, wait: bool = True, timeout: Optional[float] = None) -> bool:
        self._ensure_link()
        return self.link_thread.wait_ready(timeout) if wait else True

    def close(self) -> None:
        self.link_thread.stop()

    def _send(self, frame):
        self.link_thread.send(frame)

    def _send_broadcast(self, frame, namespace=None):
        self._ensure_link()
        self.link_thread.send_broadcast(frame, namespace)

    def _send_ack_broadcast(self, frame, callback):
        self._ensure_link()
        self.link_thread.call(self._start_ack_broadcast, frame, callback)

    def _run_handler(self, fn, args, done):
        """Runs an application handler in a background task (never on the
        link thread) and hands its outcome to done(ok, result)."""
        def task():
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001 - the application's error
                return done(False, exc)
            done(True, result)

        self.server.start_background_task(task)

    def _disconnect_now(self, sid, eio_sid, namespace, close):
        if close:
            self.server.start_background_task(self.server.eio.disconnect, eio_sid)
        else:
            self.server.start_background_task(self.server.disconnect, sid, namespace=namespace, ignore_queue=True)

    def _cluster_send_soon(self, kind, namespace, body):
        self._ensure_link()
        self.link_thread.call(self._cluster_send, kind, namespace, body)

    def _on_link(self, coroutine, timeout):
        """Runs one of the cluster coroutines on the link thread and waits."""
        self._ensure_link()
        if threading.current_thread() is self.link_thread._thread:
            coroutine.close()
            raise RuntimeError("a blocking cluster call cannot run on the socketbus link thread")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.link_thread.loop)
        # The coroutine bounds itself (busd's reply, or its own time-out);
        # the wait for the link is at most 5 s more.
        return future.result(self._timeout(timeout) + REPLY_GRACE + 6.0)

    # The room tables are changed from request threads and read by the link
    # thread (resync, DELIVER): every change goes through these four.
    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        with self._lock:
            return super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)

    def basic_leave_room(self, sid, namespace, room):
        with self._lock:
            return super().basic_leave_room(sid, namespace, room)

    def basic_disconnect(self, sid, namespace, **kwargs):
        with self._lock:
            return super().basic_disconnect(sid, namespace, **kwargs)

    def basic_close_room(self, room, namespace):
        with self._lock:
            return super().basic_close_room(room, namespace)

    # --- python-socketio hooks -------------------------------------------------

    def connect(self, sid, namespace):
        sid = super().connect(sid, namespace)
        self._report_connect(sid, namespace)
        return sid

    def disconnect(self, sid, namespace, **kwargs):
        reason = self._disconnect_reason(sid, namespace)
        result = super().disconnect(sid, namespace, **kwargs)
        self._report_disconnect(sid, namespace, reason)
        return result

    def can_disconnect(self, sid, namespace):
        if self._is_local(sid, namespace) or not self._cluster_ready():
            return super().can_disconnect(sid, namespace)
        self._cluster_send_soon(ClusterKind.DISCONNECT_SOCKETS, namespace or "/",
                                self._sockets_request(ClusterKind.DISCONNECT_SOCKETS, namespace, sid, None, close=False))
        return False

    def enter_room(self, sid, namespace, room, eio_sid=None):
        if eio_sid is None and not self._is_local(sid, namespace) and self._cluster_ready():
            return self._cluster_send_soon(ClusterKind.ADD_SOCKETS, namespace,
                                           self._sockets_request(ClusterKind.ADD_SOCKETS, namespace, sid, None, room))
        already = self._in_room(sid, namespace, room)
        result = super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        if not already:
            self._report_rooms(True, sid, namespace, [room])
        return result

    def leave_room(self, sid, namespace, room):
        if not self._is_local(sid, namespace) and self._cluster_ready():
            return self._cluster_send_soon(ClusterKind.DEL_SOCKETS, namespace,
                                           self._sockets_request(ClusterKind.DEL_SOCKETS, namespace, sid, None, room))
        was_in = self._in_room(sid, namespace, room)
        result = super().leave_room(sid, namespace, room)
        if was_in:
            self._report_rooms(False, sid, namespace, [room])
        return result

    def close_room(self, room, namespace):
        members = [sid for sid, _ in self.get_participants(namespace, room)]
        result = super().close_room(room, namespace)
        for sid in members:
            self._report_rooms(False, sid, namespace, [room])
        if self._cluster_ready():
            self._cluster_send_soon(ClusterKind.DEL_SOCKETS, namespace or "/",
                                    self._sockets_request(ClusterKind.DEL_SOCKETS, namespace, room, None, room))
        return result

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        self._forward(event, data, namespace or "/", room, skip_sid, callback, kwargs)
        return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)

    def trigger_callback(self, sid, id, data):
        callback = self._take_callback(sid, id)
        if callback is not None:
            callback(*data)

    # --- busd's commands (link thread) -------------------------------------------

    def _on_frame(self, frame):
        for eio_sid, pkt in self._handle_command(frame):
            self.server._send_eio_packet(eio_sid, pkt)

    # --- the cluster-wide calls (blocking; same meaning as SocketbusAsyncManager's) ---------

    def server_count(self, namespace: str = "/", timeout: Optional[float] = None) -> int:
        return self._on_link(self._a_server_count(namespace, timeout), timeout)

    def fetch_sockets(self, namespace: str = "/", to=None, skip=None, timeout: Optional[float] = None):
        self._namespaces_seen.add(namespace)
        return self._on_link(self._a_fetch_sockets(namespace, _target_list(to), _target_list(skip), timeout), timeout)

    def all_rooms(self, namespace: str = "/", timeout: Optional[float] = None) -> set:
        self._namespaces_seen.add(namespace)
        return self._on_link(self._a_all_rooms(namespace, timeout), timeout)

    def sockets_join(self, rooms, namespace: str = "/", to=None, skip=None) -> None:
        self._cluster_send_soon(ClusterKind.ADD_SOCKETS, namespace,
                                self._sockets_request(ClusterKind.ADD_SOCKETS, namespace, to, skip, rooms))

    def sockets_leave(self, rooms, namespace: str = "/", to=None, skip=None) -> None:
        self._cluster_send_soon(ClusterKind.DEL_SOCKETS, namespace,
                                self._sockets_request(ClusterKind.DEL_SOCKETS, namespace, to, skip, rooms))

    def disconnect_sockets(self, namespace: str = "/", to=None, skip=None, close: bool = False) -> None:
        self._cluster_send_soon(ClusterKind.DISCONNECT_SOCKETS, namespace,
                                self._sockets_request(ClusterKind.DISCONNECT_SOCKETS, namespace, to, skip, close=close))

    def server_side_emit(self, event: str, *args, namespace: str = "/") -> None:
        self._cluster_send_soon(ClusterKind.SERVER_SIDE_EMIT, namespace, [event, *args])

    def server_side_emit_with_ack(self, event: str, *args, namespace: str = "/",
                                  timeout: Optional[float] = None) -> list:
        return self._on_link(self._a_server_side_emit_with_ack(namespace, event, args, timeout), timeout)

    def cluster_participants(self, namespace: str, room, timeout: Optional[float] = None) -> list:
        return [s["id"] for s in self.fetch_sockets(namespace, to=room, timeout=timeout)]

    def cluster_rooms(self, sid: str, namespace: str = "/", timeout: Optional[float] = None) -> list:
        for described in self.fetch_sockets(namespace, to=sid, timeout=timeout):
            if described.get("id") == sid:
                return list(described.get("rooms") or [])
        return []
