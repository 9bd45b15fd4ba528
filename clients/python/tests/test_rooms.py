"""Typed rooms and the choice of local sockets by rooms (rooms.py), on
tables shaped like python-socketio's ``manager.rooms[namespace]``."""

from bidict import bidict

from socketbus_connector import rooms as r


def table():
    return {
        None: bidict({"a": "ea", "b": "eb", "c": "ec"}),
        "a": bidict({"a": "ea"}), "b": bidict({"b": "eb"}), "c": bidict({"c": "ec"}),
        "123": bidict({"a": "ea"}),
        123: bidict({"b": "eb"}),
        1.5: bidict({"c": "ec"}),
        True: bidict({"c": "ec"}),
    }


def sids(pairs):
    return sorted(sid for sid, _ in pairs)


def test_rooms_match_only_their_own_type():
    t = table()
    assert sids(r.select(t, ["123"], [])) == ["a"]
    assert sids(r.select(t, [123], [])) == ["b"]
    assert sids(r.select(t, [123.0], [])) == ["b"]  # JS has one number type
    assert sids(r.select(t, ["1.5"], [])) == []
    assert sids(r.select(t, [1.5], [])) == ["c"]
    assert sids(r.select(t, [1], [])) == []  # the Python room True is not the number 1
    assert sids(r.select(t, ["True"], [])) == []


def test_everyone_minus_excepted_rooms_and_skipped_sids():
    t = table()
    assert sids(r.select(t, [], [])) == ["a", "b", "c"]
    assert sids(r.select(t, [], [123])) == ["a", "c"]
    assert sids(r.select(t, [], ["a", 1.5])) == ["b"]
    assert sids(r.select(t, ["123", 123, "zzz"], ["b"])) == ["a"]
    assert sids(r.select(t, [], [], skip=["c"])) == ["a", "b"]
    assert r.select({}, [], []) == []


def test_typed_room_and_json_rooms():
    assert [r.typed_room(x) for x in ["a", 1, 1.5, True, ("t", 1), 2**53 + 1, float("inf")]] == [
        "a", 1, 1.5, "True", "('t', 1)", str(2**53 + 1), "inf"]
    assert r.rooms_from_json(None) == []
    assert r.rooms_from_json(["a", 1, 2.5]) == ["a", 1, 2.5]
    assert r.rooms_from_json(["a", True]) is None
    assert r.rooms_from_json("a") is None
    assert r.rooms_from_json([{"x": 1}]) is None
