"""Targets on Socket.IO servers without busd (stock @socket.io/redis-adapter
8.x nodes), as `busctl emit --wait-ack` reaches them (README "Targets on
servers without busd"): ask every server for the targets' socket ids
(SOCKETS, type 0), keep those the registry does not hold, and send them the
adapter's own acked broadcast (BROADCAST, type 7), whose answers are one
client count (type 8) per server and one ack value (type 9) per client,
without socket ids. Pure functions and a state object; I/O is the caller's.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import msgpack

_ALPHABET = string.ascii_letters + string.digits


def random_id(length: int = 6) -> str:
    """uid2(6)-like, as the adapter's uids and request ids."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def request_channel(key: str, nsp: str) -> str:
    return f"{key}-request#{nsp}#"


def response_channels(key: str, nsp: str, uid: str) -> List[str]:
    # Shared, and the per-requester one of nodes with publishOnSpecificResponseChannel.
    return [f"{key}-response#{nsp}#", f"{key}-response#{nsp}#{uid}#"]


def sockets_request(uid: str, request_id: str, rooms) -> bytes:
    return json.dumps({"uid": uid, "requestId": request_id, "type": 0, "rooms": list(rooms)},
                      separators=(",", ":")).encode()


def broadcast_request(uid: str, request_id: str, data: List[Any], nsp: str, rooms, flags: Dict[str, Any]) -> bytes:
    return msgpack.packb({"uid": uid, "requestId": request_id, "type": 7,
                          "packet": {"type": 2, "data": data, "nsp": nsp},
                          "opts": {"rooms": list(rooms), "except": [], "flags": flags}}, use_bin_type=True)


def parse_response(data: Any) -> Optional[Dict[str, Any]]:
    """A response (JSON or msgpack) as a dict with a str requestId, or None."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        return None
    try:
        if data[:1] == b"{":
            value = json.loads(bytes(data).decode("utf-8"))
        else:
            value = msgpack.unpackb(bytes(data), raw=False, strict_map_key=False)
    except Exception:  # noqa: BLE001 - anything unreadable is someone else's business
        return None
    if not isinstance(value, dict) or not isinstance(value.get("requestId"), str):
        return None
    return value


@dataclass
class StockReport:
    """The acked broadcast's part of a DeliveryReport."""

    request_id: str
    sockets: List[str]  # targeted sockets on servers without busd
    servers: int  # servers counted (PUBSUB NUMSUB) when it went out
    servers_answered: int = 0
    clients: int = 0
    acks: List[Any] = field(default_factory=list)  # each client's first ack argument
    lookup_complete: bool = True  # every counted server answered the target lookup

    def take(self, response: Dict[str, Any]) -> Optional[str]:
        """Takes a response; "count" or "ack" when it belonged to this request."""
        if response.get("requestId") != self.request_id:
            return None
        if response.get("type") == 8:
            count = response.get("clientCount")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                return None
            self.servers_answered += 1
            self.clients += count
            return "count"
        if response.get("type") == 9:
            self.acks.append(response.get("packet"))
            return "ack"
        return None

    @property
    def is_complete(self) -> bool:
        return self.servers_answered >= self.servers and len(self.acks) >= self.clients

    @property
    def all_acked(self) -> bool:
        return self.is_complete and self.lookup_complete


class SocketLookup:
    """The SOCKETS requests' state: one for the rooms, one for except."""

    def __init__(self, rooms, except_rooms, expected: int):
        self.expected = expected
        self.queries = [{"id": random_id(), "rooms": list(rooms), "answered": 0, "ids": []}]
        if except_rooms:
            self.queries.append({"id": random_id(), "rooms": list(except_rooms), "answered": 0, "ids": []})

    def take(self, response: Dict[str, Any]) -> None:
        for query in self.queries:
            if query["id"] == response["requestId"]:
                sockets = response.get("sockets")
                if not isinstance(sockets, list):
                    return
                query["ids"] += [s for s in sockets if isinstance(s, str)]
                query["answered"] += 1

    @property
    def done(self) -> bool:
        return all(q["answered"] >= self.expected for q in self.queries)

    @property
    def complete(self) -> bool:
        return self.done

    @property
    def ids(self) -> List[str]:
        excepted = {i for q in self.queries[1:] for i in q["ids"]}
        seen: List[str] = []
        for i in self.queries[0]["ids"]:
            if i not in excepted and i not in seen:
                seen.append(i)
        return seen
