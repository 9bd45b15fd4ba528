"""Version 2: the node as a full cluster member. What other servers ask the
node (QUESTION -> ANSWER), what the node's application asks the cluster
(CLUSTER_REQUEST -> CLUSTER_REPLY), and acked broadcasts
(BROADCAST_WITH_ACK -> ACK_COUNT / ACK_ARGUMENT).

Everything here runs on the link's event loop (the server's loop for the
asyncio manager, the link thread for the threading one); the managers
only hand calls over to it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from urllib.parse import parse_qsl

from . import frames
from . import rooms as wire_rooms
from .frames import AnswerStatus, ClusterKind, QuestionKind, ReplyStatus

logger = logging.getLogger("socketbus_connector")

# How long past its own time-out a request waits for busd's CLUSTER_REPLY
# (busd replies at the time-out at the latest; this covers a busd that died).
REPLY_GRACE = 1.0


class ClusterError(Exception):
    """A cluster call that could not be made or failed (busd not connected,
    busd speaking protocol 1, Redis unreachable)."""


class ClusterTimeout(ClusterError, TimeoutError):
    """Not every server answered in time. The message is the stock
    adapter's; ``partial`` holds what did arrive (sockets, rooms or
    responses)."""

    def __init__(self, message: str, partial=None):
        super().__init__(message)
        self.partial = partial


def json_bytes(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False, default=_json_default).encode("utf-8")


def _json_default(value):
    # Binary values, shaped as Node's JSON.stringify writes a Buffer.
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"type": "Buffer", "data": list(bytes(value))}
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def revive_buffers(value):
    """Node.js's JSON form of a Buffer, ``{"type": "Buffer", "data": [0-255,
    ...]}`` (exactly these two keys), back into bytes, at any depth: how a
    binary ack answer crosses busd (docs/local-protocol-v2.md)."""
    if isinstance(value, dict):
        data = value.get("data")
        if (len(value) == 2 and value.get("type") == "Buffer" and isinstance(data, list)
                and all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in data)):
            return bytes(data)
        return {k: revive_buffers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive_buffers(v) for v in value]
    return value


def parse_json(body: bytes):
    """A JSON body; None for an empty blob (``undefined``)."""
    if not body:
        return None
    return json.loads(body)


def ack_answer(result) -> list:
    """A handler's return value as socket.io's first ack argument, in the
    ``[arg]`` / ``[]`` form of ANSWER and python-socketio's rule (None acks
    with nothing, a tuple with several arguments, of which socket.io keeps
    the first)."""
    if result is None:
        return []
    if isinstance(result, tuple):
        return [result[0]] if result else []
    return [result]


def handshake(environ: dict, issued_ms: int) -> dict:
    """socket.io's ``socket.handshake`` from what python-socketio keeps of
    the connection (the WSGI/ASGI environ). python-socketio hands the auth
    payload to the connect handler only, so ``auth`` is ``{}``."""
    headers = {}
    for key, value in environ.items():
        if not isinstance(value, str):
            continue
        if key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = value
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers[key.lower().replace("_", "-")] = value
    query_string = environ.get("QUERY_STRING") or ""
    query: dict = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key in query:  # repeated keys become a list, as Node's querystring does
            query[key] = (query[key] if isinstance(query[key], list) else [query[key]]) + [value]
        else:
            query[key] = value
    url = environ.get("RAW_URI") or (environ.get("PATH_INFO") or "") + ("?" + query_string if query_string else "")
    when = time.localtime(issued_ms / 1000)
    zone = time.strftime("%Z", when)
    # Node writes the zone's long name; Python knows the abbreviation only
    # (the same for UTC, the usual server zone).
    zone = "Coordinated Universal Time" if zone in ("UTC", "GMT") and when.tm_gmtoff == 0 else zone
    return {
        "headers": headers,
        # JavaScript's Date.prototype.toString() form, as socket.io writes it.
        "time": time.strftime("%a %b %d %Y %H:%M:%S GMT%z", when) + f" ({zone})",
        "address": environ.get("REMOTE_ADDR") or "",
        "xdomain": "origin" in headers,
        "secure": environ.get("wsgi.url_scheme") == "https",
        "issued": issued_ms,
        "url": url,
        "query": query,
        "auth": {},
    }


@dataclasses.dataclass
class _AckRequest:
    callback: object
    namespace: str
    client_count: int = 0
    arguments: int = 0


class ClusterMixin:
    """Part of SocketbusCore; see the module docstring."""

    def _setup_cluster(self):
        self._next_request = 0
        self._cluster_requests: dict = {}  # request id -> Future of (status, body bytes)
        self._ack_requests: dict = {}  # request id -> _AckRequest
        self._sse_handler = None
        self._custom_handler = None
        self._handshakes: dict = {}  # (namespace, sid) -> handshake dict

    # --- hooks the application registers --------------------------------------------

    def on_server_side_emit(self, handler=None):
        """Registers ``handler(namespace, event, args)`` (plain or async) for
        other servers' ``serverSideEmit``s; usable as a decorator. When the
        sender asked for an ack, the handler's return value is the answer
        (None acks with no argument, like a python-socketio event handler).
        Without a handler, acked server-side emits get no answer from this
        node (busd answers as an empty node would)."""
        if handler is None:
            def register(fn):
                self._sse_handler = fn
                return fn
            return register
        self._sse_handler = handler
        return handler

    def on_custom_request(self, handler=None):
        """Registers ``handler(namespace, data)`` (plain or async) answering
        socket.io-redis 5.x ``customRequest``s; its return value (JSON) is
        the answer. Usable as a decorator."""
        if handler is None:
            def register(fn):
                self._custom_handler = fn
                return fn
            return register
        self._custom_handler = handler
        return handler

    def _server_side_emit_handler(self):
        # v1 let applications assign the handler as an attribute
        # (mgr.on_server_side_emit = fn); that keeps working.
        return self.__dict__.get("on_server_side_emit") or self._sse_handler

    # --- request ids --------------------------------------------------------------

    def _new_request_id(self) -> int:
        # One id space for CLUSTER_REQUEST and BROADCAST_WITH_ACK; ids in
        # use are skipped, 0 is never used.
        while True:
            self._next_request = self._next_request % 0xFFFFFFFF + 1
            rid = self._next_request
            if rid not in self._cluster_requests and rid not in self._ack_requests:
                return rid

    def _on_lost(self):
        """The busd session ended: nothing more will answer what is pending."""
        for future in self._cluster_requests.values():
            if not future.done():
                future.set_exception(ClusterError("the link to busd was lost before busd replied"))
        self._cluster_requests.clear()
        self._ack_requests.clear()

    # --- describing local sockets --------------------------------------------------------

    def _describe(self, sid, namespace) -> dict:
        # The handshake never changes: built once per socket (a fetch of 10k
        # sockets then costs the rooms and the JSON only).
        key = (namespace, sid)
        shake = self._handshakes.get(key)
        if shake is None:
            eio_sid = self.eio_sid_from_sid(sid, namespace)
            environ = (getattr(self.server, "environ", None) or {}).get(eio_sid) or {}
            issued = self._announced.get(key) or int(time.time() * 1000)
            shake = handshake(environ, issued)
            if key in self._announced:  # forgotten with its SOCKET_DISCONNECT
                self._handshakes[key] = shake
        return {
            "id": sid,
            "handshake": shake,
            "rooms": [wire_rooms.typed_room(r) for r in self.get_rooms(sid, namespace)],
            "data": {},
        }

    def _local_sockets(self, namespace, rooms, except_rooms) -> list:
        with self._lock:
            targets = self._select(namespace, rooms, except_rooms)
            return [self._describe(sid, namespace) for sid, _ in targets]

    def _local_rooms(self, namespace) -> set:
        with self._lock:
            return {room for room in self.rooms.get(namespace, {}) if room is not None}

    # --- QUESTION -> ANSWER ------------------------------------------------------------

    def _answer(self, request, status, body=b""):
        answer = frames.Answer(request, int(status), body)
        if len(body) > frames.MAX_LENGTH - 16:
            # Over a frame's 16 MiB (a fetch of some 40k sockets): busd is
            # told at once that this node cannot answer.
            self.stats.questions_not_answered += 1
            logger.warning("socketbus: ANSWER of %d bytes is over the frame limit; answered status 1", len(body))
            answer = frames.Answer(request, int(AnswerStatus.CANNOT_ANSWER), b"")
        self._send(answer)

    def _on_question(self, frame):
        self.stats.questions += 1
        try:
            body = parse_json(frame.body)
        except ValueError:
            return self._cannot_answer(frame, "the body is not JSON")
        if frame.kind == QuestionKind.FETCH:
            opts = {} if body is None else body
            if not isinstance(opts, dict):
                return self._cannot_answer(frame, "FETCH body is not {rooms, except}")
            rooms = wire_rooms.rooms_from_json(opts.get("rooms"))
            except_rooms = wire_rooms.rooms_from_json(opts.get("except"))
            if rooms is None or except_rooms is None:
                return self._cannot_answer(frame, "FETCH body is not {rooms, except}")
            try:
                answer = json_bytes(self._local_sockets(frame.namespace, rooms, except_rooms))
            except (TypeError, ValueError) as exc:
                return self._cannot_answer(frame, f"sockets are not JSON: {exc}")
            return self._answer(frame.request, AnswerStatus.ANSWERED, answer)
        if frame.kind == QuestionKind.SERVER_SIDE_EMIT:
            handler = self._server_side_emit_handler()
            if handler is None:
                return self._cannot_answer(frame, "no on_server_side_emit handler", level=logging.DEBUG)
            if not isinstance(body, list) or not body or not isinstance(body[0], str):
                return self._cannot_answer(frame, "SERVER_SIDE_EMIT body is not [event, ...args]")
            return self._run_handler(handler, (frame.namespace, body[0], body[1:]),
                                     lambda ok, result: self._handler_answered(frame, ok, result, ack_answer))
        if frame.kind == QuestionKind.CUSTOM:
            if self._custom_handler is None:
                return self._cannot_answer(frame, "no on_custom_request handler", level=logging.DEBUG)
            return self._run_handler(self._custom_handler, (frame.namespace, body),
                                     lambda ok, result: self._handler_answered(frame, ok, result, None))
        return self._cannot_answer(frame, f"unknown QUESTION kind {frame.kind}")

    def _cannot_answer(self, frame, why, level=logging.WARNING):
        self.stats.questions_not_answered += 1
        logger.log(level, "socketbus: QUESTION %d on %s not answered: %s", frame.kind, frame.namespace, why)
        self._answer(frame.request, AnswerStatus.CANNOT_ANSWER)

    def _handler_answered(self, frame, ok, result, shape):
        """Called with the handler's outcome (on any thread: _send is safe)."""
        if not ok:
            return self._cannot_answer(frame, f"the handler raised {result!r}")
        try:
            if shape is not None:
                body = json_bytes(shape(result))
            else:
                body = b"" if result is None else json_bytes(result)
        except (TypeError, ValueError) as exc:
            return self._cannot_answer(frame, f"the handler's answer is not JSON: {exc}")
        self._answer(frame.request, AnswerStatus.ANSWERED, body)

    # --- CLUSTER_REQUEST -> CLUSTER_REPLY ---------------------------------------------------

    async def _cluster_call(self, kind, namespace, timeout, body=None):
        """(status, parsed body) of one request with a reply; raises
        ClusterError when it cannot be made or busd reports a failure.
        While busd is away the call waits for it within its time-out (as the
        stock adapter's calls wait for its Redis client), then times out."""
        link = self.link
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if link.version is None:
            await link.wait_ready(timeout)
            timeout = max(0.0, deadline - loop.time())
        if link.version is None:
            if kind == ClusterKind.SERVER_COUNT:
                raise ClusterError("busd is not connected")
            self.stats.cluster_timeouts += 1
            return ReplyStatus.TIMED_OUT, None
        if link.version < 2:
            raise ClusterError("busd speaks local protocol 1: cluster requests need version 2")
        rid = self._new_request_id()
        future = asyncio.get_running_loop().create_future()
        self._cluster_requests[rid] = future
        self.stats.cluster_requests += 1
        payload = b"" if body is None else json_bytes(body)
        link.send(frames.ClusterRequest(rid, int(kind), namespace, _ms(timeout), payload))
        try:
            status, raw = await asyncio.wait_for(future, timeout + REPLY_GRACE)
        except asyncio.TimeoutError:
            status, raw = ReplyStatus.TIMED_OUT, b""
        finally:
            self._cluster_requests.pop(rid, None)
        try:
            parsed = parse_json(raw)
        except ValueError:
            raise ClusterError("busd's CLUSTER_REPLY body is not JSON") from None
        if status == ReplyStatus.FAILED:
            error = parsed.get("error") if isinstance(parsed, dict) else None
            raise ClusterError(error or "busd reports a failed request")
        if status == ReplyStatus.TIMED_OUT:
            self.stats.cluster_timeouts += 1
        return status, parsed

    async def _await_room_channels(self, namespace, rooms):
        """After ROOMS_JOIN of rooms new to this node (async manager): waits
        until busd says Redis confirmed the SSUBSCRIBE of their channels
        (sharded adapter, dynamic modes), as a stock sharded node's join
        does; at once when busd needs none (it then says so once per
        session). Never raises: the room is joined here anyway; a failure is
        counted and logged."""
        link = self.link
        if link.version != 2 or getattr(self, "_room_waits_off", None) == link.stats.sessions:
            return
        # As ROOMS_JOIN carried them (a tuple room as its str()).
        rooms = [wire_rooms.typed_room(r) for r in rooms if r is not None]
        if not rooms:
            return
        self.stats.room_channel_waits += 1
        try:
            status, body = await self._cluster_call(ClusterKind.ROOMS_SUBSCRIBED, namespace, self.requests_timeout,
                                                    {"rooms": rooms})
        except ClusterError as exc:
            status, body = ReplyStatus.FAILED, {"error": str(exc)}
        if status == ReplyStatus.COMPLETE:
            if isinstance(body, dict) and body.get("waits") is False:
                self._room_waits_off = link.stats.sessions
            return
        self.stats.room_channel_waits_failed += 1
        if self.stats.room_channel_waits_failed == 1 or self.stats.room_channel_waits_failed % 1000 == 0:
            logger.warning("socketbus: enter_room: busd did not confirm the room channels' subscription (%s)",
                           body.get("error") if isinstance(body, dict) else "timed out")

    def _cluster_send(self, kind, namespace, body):
        """A request without a reply (kinds 4-7), on the link loop. Kinds
        4-6 come back to this node as an APPLY (like the stock adapter's own
        request through Redis). While busd is away they wait in the link's
        bounded queue, as the stock adapter's wait in its Redis client (and
        are dropped, counted, if the busd that comes back speaks version 1).
        With a version 1 busd, 4-6 act on the local sockets only, as the
        in-memory adapter would."""
        version = self.link.version
        if version == 2 or (version is None and self._speaks_v2()):
            self.stats.cluster_requests += 1
            request = frames.ClusterRequest(self._new_request_id(), int(kind), namespace, 0, json_bytes(body))
            if version == 2:
                self.link.send(request)
            else:
                self.link.send_broadcast(request, namespace)
            return
        if kind == ClusterKind.SERVER_SIDE_EMIT:
            self.stats.cluster_requests_dropped += 1
            logger.warning("socketbus: serverSideEmit on %s not sent: busd speaks local protocol 1",
                           namespace)
            return
        op = {ClusterKind.ADD_SOCKETS: frames.ApplyOp.JOIN, ClusterKind.DEL_SOCKETS: frames.ApplyOp.LEAVE,
              ClusterKind.DISCONNECT_SOCKETS: frames.ApplyOp.DISCONNECT}[kind]
        opts = body.get("opts", body)
        self._apply(op, namespace, opts["rooms"], opts["except"], body.get("rooms", []), body.get("close", False))

    def _on_cluster_reply(self, frame):
        future = self._cluster_requests.get(frame.request)
        if future is not None and not future.done():
            future.set_result((frame.status, frame.body))

    # --- BROADCAST_WITH_ACK -> ACK_COUNT / ACK_ARGUMENT -------------------------------------

    def _start_ack_broadcast(self, frame, callback):
        """On the link loop: sends the BROADCAST_WITH_ACK (built with request
        0) under a fresh id, and relays the answers to ``callback`` until
        its time-out."""
        if self.link.version != 2:
            self.stats.ack_broadcasts_local_only += 1
            return
        rid = self._new_request_id()
        self._ack_requests[rid] = _AckRequest(callback, frame.namespace)
        self.stats.ack_broadcasts += 1
        self.link.send(dataclasses.replace(frame, request=rid))
        asyncio.get_running_loop().call_later(frame.timeout_ms / 1000, self._ack_requests.pop, rid, None)

    def _on_ack_count(self, frame):
        request = self._ack_requests.get(frame.request)
        if request is not None:
            request.client_count += frame.client_count
            self.stats.ack_clients_counted += frame.client_count

    def _on_ack_argument(self, frame):
        request = self._ack_requests.get(frame.request)
        if request is None:
            return
        try:
            argument = parse_json(frame.argument)
        except ValueError:
            logger.warning("socketbus: ACK_ARGUMENT is not JSON; ignored")
            return
        request.arguments += 1
        self.stats.ack_arguments += 1
        # python-socketio calls an emit's callback with the client's ack
        # arguments; across servers socket.io carries the first one only.
        args = () if not frame.argument else (revive_buffers(argument),)
        self._run_handler(request.callback, args, self._callback_done)

    def _callback_done(self, ok, result):
        if not ok:
            logger.error("socketbus: an emit callback raised %r", result)

    # --- the application's cluster calls (coroutines on the link loop) ---------------------

    def _timeout(self, timeout) -> float:
        return self.requests_timeout if timeout is None else timeout

    async def _a_server_count(self, namespace, timeout):
        timeout = self._timeout(timeout)
        _, body = await self._cluster_call(ClusterKind.SERVER_COUNT, namespace, timeout)
        count = body.get("count") if isinstance(body, dict) else None
        if not isinstance(count, int):
            raise ClusterError("busd's server count reply has no count")
        return count

    async def _a_fetch_sockets(self, namespace, rooms, except_rooms, timeout):
        timeout = self._timeout(timeout)
        local = self._local_sockets(namespace, rooms, except_rooms)
        body = {"rooms": rooms, "except": except_rooms}
        status, reply = await self._cluster_call(ClusterKind.FETCH_SOCKETS, namespace, timeout, body)
        remote = reply.get("sockets") if isinstance(reply, dict) else None
        sockets = local + [s for s in (remote or []) if isinstance(s, dict)]
        if status == ReplyStatus.TIMED_OUT:
            raise ClusterTimeout("timeout reached while waiting for fetchSockets response", sockets)
        return sockets

    async def _a_all_rooms(self, namespace, timeout):
        timeout = self._timeout(timeout)
        local = self._local_rooms(namespace)
        status, reply = await self._cluster_call(ClusterKind.ALL_ROOMS, namespace, timeout)
        remote = reply.get("rooms") if isinstance(reply, dict) else None
        rooms = local | {r for r in (remote or []) if isinstance(r, (str, int, float)) and not isinstance(r, bool)}
        if status == ReplyStatus.TIMED_OUT:
            raise ClusterTimeout("timeout reached while waiting for allRooms response", rooms)
        return rooms

    async def _a_server_side_emit_with_ack(self, namespace, event, args, timeout):
        timeout = self._timeout(timeout)
        status, reply = await self._cluster_call(
            ClusterKind.SERVER_SIDE_EMIT_WITH_ACK, namespace, timeout, [event, *args])
        reply = reply if isinstance(reply, dict) else {}
        responses = reply.get("responses") if isinstance(reply.get("responses"), list) else []
        if status == ReplyStatus.TIMED_OUT:
            expected = reply.get("expected", "?")
            raise ClusterTimeout(
                f"timeout reached: only {len(responses)} responses received out of {expected}", responses)
        return responses


def _ms(seconds) -> int:
    return max(0, min(0xFFFFFFFF, int(seconds * 1000)))
