"""The connector's connection to its busd: an asyncio Unix-socket client
that says HELLO, waits for WELCOME, answers PING, hands every other frame
to its owner, and reconnects with exponential back-off and jitter when busd
goes away (a busd restart must never take the Socket.IO server down).

Frames flow without waiting for answers (the protocol is pipelined), so
``send`` only writes into the transport's buffer and never awaits.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import os
import random
import socket
import threading
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from . import frames
from .frames import ErrorCode, ProtocolError

logger = logging.getLogger("socketbus_connector")

DEFAULT_PATH = "/run/socketbus/busd.sock"
# The variable busd reads its socket.path from: one name on both sides.
PATH_VARIABLE = "SOCKETBUS_SOCKET_PATH"


def default_path() -> str:
    """busd's socket: $SOCKETBUS_SOCKET_PATH, else busd's default."""
    return os.environ.get(PATH_VARIABLE) or DEFAULT_PATH


class _VersionRefused(ConnectionError):
    """busd answered HELLO with ERROR 2 (unsupported version)."""


_V2_TYPES = frozenset(t.TYPE for t in frames.V2_FRAMES)
# Commands busd sends the node, per version (any other frame from busd is
# unexpected; a v2 command on a v1 session too).
_FROM_BUSD_V1 = (frames.Deliver, frames.SocketsJoin, frames.SocketsLeave, frames.SocketsDisconnect,
                 frames.ServerSideEmit)
_FROM_BUSD_V2 = (frames.DeliverToRooms, frames.Apply, frames.Question, frames.ClusterReply,
                 frames.AckCount, frames.AckArgument)


@dataclass
class LinkStats:
    sessions: int = 0  # times a WELCOME was received
    frames_sent: int = 0
    frames_received: int = 0
    # Registry and ACKED frames written while disconnected are dropped: the
    # registry is rebuilt from the manager's state on reconnect, and a
    # restarted busd forgets its ack table anyway.
    frames_dropped: int = 0
    broadcasts_queued: int = 0
    broadcasts_dropped: int = 0  # queue full, or transport buffer over its bound
    errors_received: int = 0
    frames_rejected_by_busd: int = 0  # ERROR 6: busd skipped one frame, the session goes on


class Link:
    """One connector ⇄ busd connection, kept up until ``close()``.

    on_ready(welcome) -> frames to send first (the registry resync); it runs
    synchronously right before the link is marked ready, so no event can
    slip between the snapshot and the first live frame.
    on_frame(frame) handles busd's commands (may be a coroutine function).
    on_lost() is told when a ready session ends.
    """

    def __init__(
        self,
        path: Optional[str] = None,
        *,
        node_name: Optional[str] = None,
        on_ready: Callable[[frames.Welcome], Iterable[object]] = lambda welcome: (),
        on_frame: Callable[[object], object] = lambda frame: None,
        on_lost: Callable[[], None] = lambda: None,
        min_delay: float = 0.1,
        max_delay: float = 5.0,
        max_queue: int = 10_000,
        max_write_buffer: int = 64 << 20,
        handshake_timeout: float = 5.0,
        protocol_version: int = frames.VERSION,
    ):
        if protocol_version not in frames.VERSIONS:
            raise ValueError(f"protocol_version must be one of {frames.VERSIONS}")
        self.path = path or default_path()
        self.node_name = node_name or f"python-socketio@{socket.gethostname()}"
        self.on_ready = on_ready
        self.on_frame = on_frame
        self.on_lost = on_lost
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.max_write_buffer = max_write_buffer
        self.handshake_timeout = handshake_timeout
        self.protocol_version = protocol_version
        self.stats = LinkStats()
        self.welcome: Optional[frames.Welcome] = None
        # Broadcasts made while busd is away; the oldest go first when full
        # (live traffic matters more than stale traffic).
        self._queue: collections.deque = collections.deque(maxlen=max_queue)
        self._writer: Optional[asyncio.StreamWriter] = None
        # Binds to a loop on first use (3.10+), so it can be made off-loop.
        self._ready = asyncio.Event()
        self._task: Optional[asyncio.Task] = None
        self._closing = False
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._warned_unreachable = False
        # Namespaces announced (NAMESPACE) in the current v2 session.
        self._namespaces: set = set()

    # --- life cycle --------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._writer is not None

    @property
    def closed(self) -> bool:
        return self._closing

    @property
    def version(self) -> Optional[int]:
        """The protocol version of the current session (None between sessions)."""
        return self.welcome.version if self._writer is not None and self.welcome else None

    def start(self) -> Optional[asyncio.Task]:
        """Starts the connect loop on the running event loop (idempotent;
        None once closed)."""
        if self._task is None and not self._closing:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run(), name="socketbus-link")
        return None if self._closing else self._task

    async def wait_ready(self, timeout: Optional[float] = None) -> bool:
        if self.start() is None:  # closed
            return False
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        self._drop_writer()

    # --- sending (event-loop thread) ----------------------------------------

    def send(self, frame) -> bool:
        """Writes a frame now, or drops it when busd is not connected."""
        if self._writer is None:
            self.stats.frames_dropped += 1
            return False
        return self._write(frame)

    def send_broadcast(self, frame, namespace: Optional[str] = None) -> bool:
        """Writes a BROADCAST or ROOMS_BROADCAST (a frame, or its bytes from
        ``frames.encode`` with its namespace), or queues it (bounded) while
        busd is away."""
        if self._writer is None:
            if len(self._queue) == self._queue.maxlen:
                self.stats.broadcasts_dropped += 1
            self._queue.append((frame, namespace))
            self.stats.broadcasts_queued += 1
            return False
        if self._writer.transport.get_write_buffer_size() > self.max_write_buffer:
            # busd stopped reading: shed broadcasts rather than grow without bound.
            self.stats.broadcasts_dropped += 1
            return False
        return self._write(frame, namespace)

    def _write(self, frame, namespace: Optional[str] = None) -> bool:
        version = self.welcome.version if self.welcome else 1
        type_byte = frame[4] if isinstance(frame, bytes) else frame.TYPE
        if version < 2 and type_byte in _V2_TYPES:
            if type_byte == frames.RoomsBroadcast.TYPE:
                # Made while busd was away, sent on a v1 session: rooms as text.
                frame = frames.to_v1(frames.decode(frame) if isinstance(frame, bytes) else frame)
            else:
                # Built for a v2 session that has ended; a v1 busd would
                # close the link on it.
                self.stats.frames_dropped += 1
                return False
        if version >= 2:
            if namespace is None and not isinstance(frame, bytes):
                namespace = getattr(frame, "namespace", None)
            if isinstance(frame, frames.Namespace):
                self._namespaces.add(frame.namespace)
            elif namespace is not None and namespace not in self._namespaces:
                # busd subscribes a namespace's channels when told of it:
                # NAMESPACE goes before the first frame that names it.
                self._write(frames.Namespace(namespace))
        try:
            data = frame if isinstance(frame, bytes) else frames.encode(frame)
        except ValueError as exc:
            logger.warning("socketbus: frame not sent: %s", exc)
            self.stats.frames_dropped += 1
            return False
        self._writer.write(data)
        self.stats.frames_sent += 1
        return True

    # --- connect loop ---------------------------------------------------------

    def _delay(self, attempt: int) -> float:
        base = min(self.max_delay, self.min_delay * (2 ** min(attempt, 30)))
        # "Equal jitter": at least half the step, so retries stay spaced out,
        # and spread over the other half, so many nodes do not reconnect in step.
        return base / 2 + random.uniform(0, base / 2)

    async def _run(self) -> None:
        attempt = 0
        # Each connection asks for protocol_version; a busd that predates
        # version 2 refuses that HELLO (ERROR 2), so the next connection,
        # made at once, asks for 1.
        ask = self.protocol_version
        while not self._closing:
            try:
                reader, writer = await asyncio.open_unix_connection(self.path)
            except OSError as exc:
                level = logging.DEBUG if self._warned_unreachable else logging.WARNING
                logger.log(level, "socketbus: busd at %s unreachable (%s); retrying", self.path, exc)
                self._warned_unreachable = True
            else:
                sessions = self.stats.sessions
                try:
                    await self._session(reader, writer, ask)
                except asyncio.CancelledError:
                    self._drop_writer(writer)
                    raise
                except _VersionRefused as exc:
                    self._drop_writer(writer)
                    if ask > 1:
                        logger.info("socketbus: %s; asking for protocol 1", exc)
                        ask = 1
                        continue
                    logger.warning("socketbus: busd session ended: %s", exc)
                except Exception as exc:  # noqa: BLE001 - the link must survive anything
                    logger.warning("socketbus: busd session ended: %s", exc)
                self._drop_writer(writer)
                ask = self.protocol_version
                if self.stats.sessions > sessions:  # it got as far as WELCOME
                    attempt = 0
            if self._closing:
                break
            await asyncio.sleep(self._delay(attempt))
            attempt += 1

    async def _session(self, reader, writer, ask: int) -> None:
        """One connection, from HELLO until either side ends it."""
        decoder = frames.FrameDecoder()
        writer.write(frames.encode(frames.Hello(ask, self.node_name, os.getpid())))
        try:
            welcome = await asyncio.wait_for(self._handshake(reader, writer, decoder, ask), self.handshake_timeout)
        except asyncio.TimeoutError:
            raise ConnectionError("no WELCOME from busd within %.1fs" % self.handshake_timeout) from None
        if welcome is None:
            return
        self._warned_unreachable = False
        self.welcome = welcome
        self._namespaces = set()
        self.stats.sessions += 1
        logger.info("socketbus: connected to busd (protocol %d, node id %s, uid %s)",
                    welcome.version, welcome.node_id, welcome.uid)
        try:
            resync = list(self.on_ready(welcome))
        except Exception:  # noqa: BLE001
            logger.exception("socketbus: building the registry resync failed")
            resync = []
        self._writer = writer
        for frame in resync:
            self._write(frame)
        while self._queue and self._writer is writer:
            self._write(*self._queue.popleft())
        self._ready.set()
        try:
            # Frames that arrived with WELCOME are handled first.
            if not await self._dispatch_buffered(decoder, writer):
                return
            while True:
                chunk = await reader.read(64 * 1024)
                if not chunk:
                    logger.warning("socketbus: busd closed the connection")
                    return
                decoder.feed(chunk)
                if not await self._dispatch_buffered(decoder, writer):
                    return
        finally:
            self._ready.clear()
            self._writer = None
            try:
                self.on_lost()
            except Exception:  # noqa: BLE001
                logger.exception("socketbus: on_lost failed")

    async def _handshake(self, reader, writer, decoder, ask: int) -> Optional[frames.Welcome]:
        while True:
            try:
                frame = decoder.next_frame()
            except ProtocolError as exc:
                self._send_error(writer, exc)
                return None
            if frame is not None:
                break
            chunk = await reader.read(64 * 1024)
            if not chunk:
                raise ConnectionError("busd closed the connection before WELCOME")
            decoder.feed(chunk)
        self.stats.frames_received += 1
        if isinstance(frame, frames.Error):
            self.stats.errors_received += 1
            if frame.code == ErrorCode.UNSUPPORTED_VERSION:
                raise _VersionRefused(f"busd refused HELLO {ask}: {frame.message}")
            raise ConnectionError(f"busd refused HELLO: error {frame.code} {frame.message}")
        if not isinstance(frame, frames.Welcome):
            self._send_error(writer, ProtocolError(ErrorCode.UNEXPECTED_FRAME, f"{frames.frame_name(frame)} before WELCOME"))
            return None
        if frame.version not in frames.VERSIONS or frame.version > ask:
            self._send_error(writer, ProtocolError(
                ErrorCode.UNSUPPORTED_VERSION, f"connector asked for {ask}, WELCOME has {frame.version}"))
            return None
        return frame

    async def _dispatch_buffered(self, decoder, writer) -> bool:
        """Handles every complete frame; False when the session must end."""
        while True:
            try:
                frame = decoder.next_frame()
            except ProtocolError as exc:
                logger.warning("socketbus: bad frame from busd: %s", exc)
                self._send_error(writer, exc)
                return False
            if frame is None:
                return True
            self.stats.frames_received += 1
            if isinstance(frame, frames.Ping):
                self._write(frames.Pong(frame.token))
            elif isinstance(frame, frames.Pong):
                pass
            elif isinstance(frame, frames.Error):
                self.stats.errors_received += 1
                if frame.code == ErrorCode.UNUSABLE_CONTENT:
                    # busd skipped one of our frames and keeps the connection:
                    # so do we. One line for the first, then one per 1000.
                    self.stats.frames_rejected_by_busd += 1
                    n = self.stats.frames_rejected_by_busd
                    if n == 1 or n % 1000 == 0:
                        logger.warning("socketbus: busd skipped a frame (%d so far): %s", n, frame.message)
                    continue
                logger.warning("socketbus: busd sent error %s: %s", frame.code, frame.message)
                return False
            elif isinstance(frame, _FROM_BUSD_V1) or (
                    isinstance(frame, _FROM_BUSD_V2) and self.welcome.version >= 2):
                try:
                    result = self.on_frame(frame)
                    if inspect.isawaitable(result):
                        await result
                except Exception:  # noqa: BLE001 - one bad command must not end the link
                    logger.exception("socketbus: handling %s failed", frames.frame_name(frame))
            else:
                self._send_error(writer, ProtocolError(
                    ErrorCode.UNEXPECTED_FRAME, f"{frames.frame_name(frame)} does not go from busd to the node"))
                return False

    def _send_error(self, writer, exc: ProtocolError) -> None:
        try:
            writer.write(frames.encode(frames.Error(int(exc.code), exc.message[:1000])))
        except Exception:  # noqa: BLE001
            pass

    def _drop_writer(self, writer=None) -> None:
        writer = writer or self._writer
        if writer is self._writer:
            self._writer = None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass


class LinkThread:
    """A Link on its own event loop in a daemon thread, for the threading
    ``socketio.Server``: callers on any thread hand frames over with
    ``call_soon_threadsafe``, and busd's commands run on the link thread."""

    def __init__(self, link: Link):
        self.link = link
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._started = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._main, name="socketbus-link", daemon=True)
            self._thread.start()
        self._started.wait()

    def _main(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        # Link.start needs the loop running: it is its first callback.
        self.loop.call_soon(self.link.start)
        self.loop.call_soon(self._started.set)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    def call(self, fn, *args) -> None:
        """Runs fn(*args) on the link thread (soon, in call order)."""
        if self.loop is None or self.loop.is_closed():
            self.link.stats.frames_dropped += 1
            return
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # loop closed meanwhile
            self.link.stats.frames_dropped += 1

    def send(self, frame) -> None:
        self.call(self.link.send, frame)

    def send_broadcast(self, frame, namespace=None) -> None:
        self.call(self.link.send_broadcast, frame, namespace)

    def wait_ready(self, timeout: Optional[float] = None) -> bool:
        self.start()
        future = asyncio.run_coroutine_threadsafe(self.link.wait_ready(timeout), self.loop)
        return future.result()

    def stop(self, timeout: float = 5.0) -> None:
        if self.loop is None or self._thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self.link.close(), self.loop)
        try:
            future.result(timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
