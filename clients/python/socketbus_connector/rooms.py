"""Rooms as the wire carries them, and the choice of local sockets by rooms
(the in-memory adapter's rule) that DELIVER_TO_ROOMS, APPLY and FETCH use.
"""

from __future__ import annotations

import math
from typing import Iterable, List, Optional, Tuple


def room_name(room) -> str:
    """Version 1: every room travels as text."""
    return room if isinstance(room, str) else str(room)


def typed_room(room):
    """Version 2: a str stays a str and a number stays a number (so a JS
    node's ``to(123)`` reaches the Python room ``123`` and never ``"123"``).
    Anything else a Python app may use as a room (a bool, a tuple, a number
    no f64 holds) travels as its ``str()``, the v1 rule."""
    if isinstance(room, str):
        return room
    if isinstance(room, (int, float)) and not isinstance(room, bool):
        if isinstance(room, float) and not math.isfinite(room):
            return str(room)
        if float(room) == room:
            return room
    return str(room)


def rooms_from_json(value) -> Optional[List]:
    """A JSON list of rooms (strings and numbers); None when it is not one."""
    if value is None:
        return []
    if not isinstance(value, list):
        return None
    out = []
    for room in value:
        if isinstance(room, bool) or not isinstance(room, (str, int, float)):
            return None
        out.append(room)
    return out


def members(table: dict, room):
    """The {sid: eio_sid} of a room from the wire (a str or a number) in a
    namespace's table; a room only ever matches a room of its own type."""
    found = table.get(room)
    if found is None:
        return {}
    if not isinstance(room, str) and room in (0, 1):
        # True == 1 and False == 0 share a dict slot: a JS room 1 must not
        # reach the Python room True (which travels as "True").
        for key in table:
            if key == room and isinstance(key, bool):
                return {}
    return found


def select(table: dict, rooms: Iterable, except_rooms: Iterable, skip: Iterable = ()) -> List[Tuple[str, str]]:
    """[(sid, eio_sid)] of the sockets of one namespace (``table`` is
    ``manager.rooms[namespace]``) in any of ``rooms`` (every socket when
    empty), minus those in any of ``except_rooms`` and the sids in ``skip``
    (sockets still in their connect handler)."""
    chosen: dict = {}
    rooms = list(rooms)
    if rooms:
        for room in rooms:
            if room is not None:
                chosen.update(members(table, room))
    else:
        chosen.update(table.get(None, {}))
    excluded = set(skip)
    for room in except_rooms:
        if room is not None:
            excluded.update(members(table, room).keys())
    return [(sid, eio_sid) for sid, eio_sid in chosen.items() if sid not in excluded]
