"""Client managers that make a python-socketio 5.x server a node of a
socketbus cluster: the server keeps its own in-memory rooms (so everything
local works as with the stock manager) and the manager mirrors the sockets'
life to busd, forwards the server's broadcasts, and carries out what busd
asks (DELIVER, SOCKETS_JOIN/LEAVE/DISCONNECT, SERVER_SIDE_EMIT).

``SocketbusAsyncManager`` is for ``socketio.AsyncServer``;
``SocketbusManager`` for ``socketio.Server`` in ``threading`` mode (its busd
link runs on an asyncio loop in a daemon thread).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable, Optional

from socketio.async_manager import AsyncManager
from socketio.manager import Manager

from . import frames
from .core import ManagerStats, SocketbusCore
from .link import LinkThread

__all__ = ["ManagerStats", "SocketbusAsyncManager", "SocketbusManager"]

class SocketbusAsyncManager(SocketbusCore, AsyncManager):
    """Client manager for ``socketio.AsyncServer``::

        mgr = SocketbusAsyncManager(path="/run/socketbus/busd.sock")
        sio = socketio.AsyncServer(client_manager=mgr, async_mode="aiohttp")

    The link to busd starts with the first client (or ``await mgr.start()``).
    ``on_server_side_emit(namespace, event, args)``, plain or async, receives
    other processes' ``serverSideEmit``s.
    """

    name = "socketbus"

    def __init__(self, path: Optional[str] = None, *, node_name: Optional[str] = None, max_queue: int = 10_000,
                 on_server_side_emit: Optional[Callable[..., Any]] = None, logger=None,
                 ack_sweep_interval: float = 1.0, **link_options):
        AsyncManager.__init__(self)
        self.logger = logger
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

    def _send_broadcast(self, frame):
        self._ensure_link()
        self.link.send_broadcast(frame)

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

    async def enter_room(self, sid, namespace, room, eio_sid=None):
        already = self._in_room(sid, namespace, room)
        result = await super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        if not already:
            self._report_rooms(frames.SocketJoin, sid, namespace, [room])
        return result

    async def leave_room(self, sid, namespace, room):
        was_in = self._in_room(sid, namespace, room)
        result = await super().leave_room(sid, namespace, room)
        if was_in:
            self._report_rooms(frames.SocketLeave, sid, namespace, [room])
        return result

    async def close_room(self, room, namespace):
        members = [sid for sid, _ in self.get_participants(namespace, room)]
        result = await super().close_room(room, namespace)
        for sid in members:
            self._report_rooms(frames.SocketLeave, sid, namespace, [room])
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
        if isinstance(frame, frames.Deliver):
            for eio_sid, packets in self._plan_delivery(frame):
                for pkt in packets:
                    await self.server._send_eio_packet(eio_sid, pkt)
        elif isinstance(frame, frames.SocketsJoin):
            self._apply_rooms(frame, join=True)
        elif isinstance(frame, frames.SocketsLeave):
            self._apply_rooms(frame, join=False)
        elif isinstance(frame, frames.SocketsDisconnect):
            for sid, eio_sid in self._disconnect_targets(frame):
                if frame.close:  # the whole engine.io connection, every namespace
                    self._spawn(self.server.eio.disconnect(eio_sid))
                else:
                    self._spawn(self.server.disconnect(sid, namespace=frame.namespace, ignore_queue=True))
        elif isinstance(frame, frames.ServerSideEmit):
            call = self._server_side_emit(frame)
            if call is not None:
                result = self.on_server_side_emit(frame.namespace, call[0], call[1])
                if inspect.iscoroutine(result):
                    self._spawn(result)


class SocketbusManager(SocketbusCore, Manager):
    """Client manager for ``socketio.Server(async_mode="threading")``. The
    link to busd runs on its own event loop in a daemon thread; busd's
    commands are carried out there (application handlers go to background
    tasks). eventlet and gevent modes are not supported."""

    name = "socketbus"

    def __init__(self, path: Optional[str] = None, *, node_name: Optional[str] = None, max_queue: int = 10_000,
                 on_server_side_emit: Optional[Callable[..., Any]] = None, logger=None,
                 ack_sweep_interval: float = 1.0, **link_options):
        Manager.__init__(self)
        self.logger = logger
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

    def _send_broadcast(self, frame):
        self._ensure_link()
        self.link_thread.send_broadcast(frame)

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

    def enter_room(self, sid, namespace, room, eio_sid=None):
        already = self._in_room(sid, namespace, room)
        result = super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        if not already:
            self._report_rooms(frames.SocketJoin, sid, namespace, [room])
        return result

    def leave_room(self, sid, namespace, room):
        was_in = self._in_room(sid, namespace, room)
        result = super().leave_room(sid, namespace, room)
        if was_in:
            self._report_rooms(frames.SocketLeave, sid, namespace, [room])
        return result

    def close_room(self, room, namespace):
        members = [sid for sid, _ in self.get_participants(namespace, room)]
        result = super().close_room(room, namespace)
        for sid in members:
            self._report_rooms(frames.SocketLeave, sid, namespace, [room])
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
        if isinstance(frame, frames.Deliver):
            for eio_sid, packets in self._plan_delivery(frame):
                for pkt in packets:
                    self.server._send_eio_packet(eio_sid, pkt)
        elif isinstance(frame, frames.SocketsJoin):
            self._apply_rooms(frame, join=True)
        elif isinstance(frame, frames.SocketsLeave):
            self._apply_rooms(frame, join=False)
        elif isinstance(frame, frames.SocketsDisconnect):
            for sid, eio_sid in self._disconnect_targets(frame):
                if frame.close:
                    self.server.start_background_task(self.server.eio.disconnect, eio_sid)
                else:
                    self.server.start_background_task(
                        self.server.disconnect, sid, namespace=frame.namespace, ignore_queue=True)
        elif isinstance(frame, frames.ServerSideEmit):
            call = self._server_side_emit(frame)
            if call is not None:
                self.server.start_background_task(self.on_server_side_emit, frame.namespace, call[0], call[1])
