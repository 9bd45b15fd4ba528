"""The sync (redis.Redis) and asyncio (redis.asyncio.Redis) publishers."""

from __future__ import annotations

import threading
import time
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional

from .confirmations import DeliveryReport, acks_key, glob_escaped, parse_record
from .emitter import BroadcastOptions, _Operator, check_message_id
from .plan import _Plan, _numsub

DEFAULT_KEY = "socket.io"
DEFAULT_PREFIX = "socketbus"
_SLICE = 0.05  # poll slice: a quiet period may run out between records


def _data(message) -> Any:
    return message.get("data") if isinstance(message, dict) else None


def _is_message(message) -> bool:
    return isinstance(message, dict) and message.get("type") in ("message", "pmessage")


class _PublisherBase(_Operator):
    """What Emitter and AsyncEmitter share: construction, and chaining that keeps the kind."""

    def __init__(self, redis, key: str = DEFAULT_KEY, nsp: str = "/", prefix: str = DEFAULT_PREFIX,
                 options: Optional[BroadcastOptions] = None):
        super().__init__(redis, options or BroadcastOptions(key, nsp), prefix)

    def _with(self, **changes):
        return type(self)(self.redis, prefix=self.prefix, options=self.options.replace(**changes))


class Emitter(_PublisherBase):
    """emitter = Emitter(redis.Redis(...)); emitter.to(sid).emit("news", {...})"""

    def emit(self, event: str, *args) -> int:
        """Publishes; returns the number of subscribers of the channel."""
        channel, payload = self.message(event, *args)
        return self.redis.publish(channel, payload)

    def emit_with_confirmation(self, event: str, *args, timeout: float = 10.0, id: Optional[str] = None,
                               on_outcome: Optional[Callable] = None) -> DeliveryReport:
        """Publishes asking for confirmations and waits for every target's outcome
        (README "Publishing from application code")."""
        plan = _Plan(self, event, args, timeout, id)
        pubsub = self.redis.pubsub()
        try:
            known = [sid for sid in plan.targets if self.redis.hget(self._owner_key, sid) is not None]
            plan.servers = _numsub(self.redis.pubsub_numsub(plan.request_channel)) if plan.lookup_wanted(known) else 0
            _subscribe(pubsub, plan.channels, plan.deadline)
            if plan.servers:
                lookup = plan.lookup()
                for channel, payload in plan.lookup_requests(lookup):
                    self.redis.publish(channel, payload)
                until = time.monotonic() + plan.lookup_time
                while not lookup.done and time.monotonic() < until:
                    message = pubsub.get_message(ignore_subscribe_messages=True, timeout=_SLICE)
                    response = plan.response(message)
                    if response is not None:
                        lookup.take(response)
                ids = lookup.ids
                owners = self.redis.hmget(self._owner_key, ids) if ids else []
                plan.found(lookup, {sid for sid, value in zip(ids, owners) if value is not None})
            for channel, payload in plan.publications(known):
                receivers = self.redis.publish(channel, payload)
                if channel == plan.report.channel:
                    plan.report.receivers = receivers
            while not plan.settled():
                left = plan.deadline - time.monotonic()
                if left <= 0:
                    break
                message = pubsub.get_message(ignore_subscribe_messages=True, timeout=min(left, _SLICE))
                outcome = plan.take(message)
                if outcome is not None and on_outcome is not None:
                    on_outcome(outcome)
            return plan.report
        finally:
            pubsub.close()

    def records(self, message_id: str) -> List[Dict[str, Any]]:
        """The stored records of a message (as `busctl acks <id>`); malformed ones skipped."""
        raw = self.redis.lrange(acks_key(self.prefix, check_message_id(message_id)), 0, -1)
        return [r for r in (parse_record(item, message_id) for item in raw) if r is not None]

    def follow(self, message_id: Optional[str] = None, timeout: Optional[float] = None,
               count: Optional[int] = None, stop: Optional[threading.Event] = None) -> Iterator[Dict[str, Any]]:
        """Every record as it is published: of one message, or of all (None).
        Ends after `timeout` seconds, `count` records or when `stop` is set;
        closing the iterator (or leaving a for loop) unsubscribes."""
        if message_id is not None:
            check_message_id(message_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        pubsub = self.redis.pubsub()
        try:
            if message_id is None:
                pubsub.psubscribe(acks_key(glob_escaped(self.prefix), "*"))
            else:
                pubsub.subscribe(acks_key(self.prefix, message_id))
            seen = 0
            while (count is None or seen < count) and not (stop is not None and stop.is_set()):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return
                message = pubsub.get_message(ignore_subscribe_messages=True,
                                             timeout=min(left, 0.2) if left is not None else 0.2)
                record = parse_record(_data(message), message_id) if _is_message(message) else None
                if record is not None:
                    seen += 1
                    yield record
        finally:
            pubsub.close()

    def follow_in_thread(self, callback: Callable[[Dict[str, Any]], Any], message_id: Optional[str] = None,
                         timeout: Optional[float] = None) -> "Following":
        """Calls callback(record) for every record on a daemon thread; .stop() ends it."""
        return Following(self, callback, message_id, timeout)


class Following:
    def __init__(self, emitter: Emitter, callback, message_id, timeout):
        self._stop = threading.Event()
        self.errors: List[BaseException] = []
        started = threading.Event()

        def run():
            records = emitter.follow(message_id, timeout=timeout, stop=self._stop)
            try:
                started.set()
                for record in records:
                    if self._stop.is_set():
                        break
                    try:
                        callback(record)
                    except Exception as error:  # noqa: BLE001 - the callback's problem, kept for the caller
                        self.errors.append(error)
                    if self._stop.is_set():
                        break
            finally:
                records.close()

        self.thread = threading.Thread(target=run, name="socketbus-follow", daemon=True)
        self.thread.start()
        started.wait(1)

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self.thread.join(timeout)


def _subscribe(pubsub, channels: List[str], deadline: float) -> None:
    """SUBSCRIBE and wait for Redis to confirm each channel, so no record can be missed."""
    pubsub.subscribe(*channels)
    confirmed = 0
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=min(deadline - time.monotonic(), 0.5))
        if isinstance(message, dict) and message.get("type") == "subscribe":
            confirmed += 1
            if confirmed == len(channels):
                return
    raise TimeoutError("Redis did not confirm the subscription in time")


class AsyncEmitter(_PublisherBase):
    """emitter = AsyncEmitter(redis.asyncio.Redis(...)); await emitter.to(sid).emit(...)"""

    async def emit(self, event: str, *args) -> int:
        channel, payload = self.message(event, *args)
        return await self.redis.publish(channel, payload)

    async def emit_with_confirmation(self, event: str, *args, timeout: float = 10.0, id: Optional[str] = None,
                                     on_outcome: Optional[Callable] = None) -> DeliveryReport:
        """See Emitter.emit_with_confirmation; on_outcome may be a coroutine function."""
        plan = _Plan(self, event, args, timeout, id)
        pubsub = self.redis.pubsub()
        try:
            known = []
            for sid in plan.targets:
                if await self.redis.hget(self._owner_key, sid) is not None:
                    known.append(sid)
            if plan.lookup_wanted(known):
                plan.servers = _numsub(await self.redis.pubsub_numsub(plan.request_channel))
            await _subscribe_async(pubsub, plan.channels, plan.deadline)
            if plan.servers:
                lookup = plan.lookup()
                for channel, payload in plan.lookup_requests(lookup):
                    await self.redis.publish(channel, payload)
                until = time.monotonic() + plan.lookup_time
                while not lookup.done and time.monotonic() < until:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_SLICE)
                    response = plan.response(message)
                    if response is not None:
                        lookup.take(response)
                ids = lookup.ids
                owners = await self.redis.hmget(self._owner_key, ids) if ids else []
                plan.found(lookup, {sid for sid, value in zip(ids, owners) if value is not None})
            for channel, payload in plan.publications(known):
                receivers = await self.redis.publish(channel, payload)
                if channel == plan.report.channel:
                    plan.report.receivers = receivers
            while not plan.settled():
                left = plan.deadline - time.monotonic()
                if left <= 0:
                    break
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=min(left, _SLICE))
                outcome = plan.take(message)
                if outcome is not None and on_outcome is not None:
                    result = on_outcome(outcome)
                    if hasattr(result, "__await__"):
                        await result
            return plan.report
        finally:
            await pubsub.aclose()

    async def records(self, message_id: str) -> List[Dict[str, Any]]:
        raw = await self.redis.lrange(acks_key(self.prefix, check_message_id(message_id)), 0, -1)
        return [r for r in (parse_record(item, message_id) for item in raw) if r is not None]

    async def follow(self, message_id: Optional[str] = None, timeout: Optional[float] = None,
                     count: Optional[int] = None) -> AsyncIterator[Dict[str, Any]]:
        """Async iterator of every record (see Emitter.follow); `await it.aclose()`
        or leaving the loop unsubscribes."""
        if message_id is not None:
            check_message_id(message_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        pubsub = self.redis.pubsub()
        try:
            if message_id is None:
                await pubsub.psubscribe(acks_key(glob_escaped(self.prefix), "*"))
            else:
                await pubsub.subscribe(acks_key(self.prefix, message_id))
            seen = 0
            while count is None or seen < count:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return
                message = await pubsub.get_message(ignore_subscribe_messages=True,
                                                   timeout=min(left, 1.0) if left is not None else 1.0)
                record = parse_record(_data(message), message_id) if _is_message(message) else None
                if record is not None:
                    seen += 1
                    yield record
        finally:
            await pubsub.aclose()

    def follow_with(self, callback: Callable, message_id: Optional[str] = None,
                    timeout: Optional[float] = None):
        """An asyncio.Task calling callback(record) (sync or async) per record; cancel it to stop."""
        import asyncio

        async def run():
            records = self.follow(message_id, timeout=timeout)
            try:
                async for record in records:
                    result = callback(record)
                    if hasattr(result, "__await__"):
                        await result
            finally:
                await records.aclose()

        return asyncio.ensure_future(run())


async def _subscribe_async(pubsub, channels: List[str], deadline: float) -> None:
    await pubsub.subscribe(*channels)
    confirmed = 0
    while time.monotonic() < deadline:
        message = await pubsub.get_message(timeout=min(deadline - time.monotonic(), 0.5))
        if isinstance(message, dict) and message.get("type") == "subscribe":
            confirmed += 1
            if confirmed == len(channels):
                return
    raise TimeoutError("Redis did not confirm the subscription in time")
