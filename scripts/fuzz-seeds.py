#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets (Fuzz/) from the test vectors.

    scripts/fuzz-seeds.py OUT_DIR
    scripts/fuzz-seeds.py --oversized DIR   # only the 17 MiB route input (see
                                            # Fuzz/README.md)

writes OUT_DIR/{codec,local-frame,route}/<name> from reference.json and
captured.jsonl (../shared/vectors, else their copies in
Tests/SocketIOCodecTests/Fixtures), js-stringify.json and sharded-captured.jsonl of those fixtures, the
frame examples of docs/local-protocol.md and docs/local-protocol-v2.md,
and Fuzz/regressions/<target>/* (inputs that once crashed). Nothing here is
committed as a binary corpus: the corpora are made afresh for every run.

Input layouts (the harnesses' comments are the reference):
  codec        selector byte (channel kind | 8 for notepack 2) + payload
  local-frame  chunking seed byte + byte stream
  route        channel index byte (| 0x80: ack policy `all`) + payload, or
               0x7f + length byte + channel + payload
"""

import hashlib
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The shared vectors when they are there (as the codec tests do), else the copies.
SHARED = ROOT.parent / "shared/vectors"
COPIES = ROOT / "Tests/SocketIOCodecTests/Fixtures"
VECTORS = SHARED if (SHARED / "reference.json").is_file() else COPIES

# Fuzz/Sources/FuzzCodec/FuzzCodec.swift `channels`, by index.
CODEC_NONE, CODEC_BROADCAST, CODEC_ROOM, CODEC_REQUEST, CODEC_RESPONSE = 0, 1, 2, 3, 4
# The route target's channels, in order: read from Fuzz/Sources/FuzzRoute/ChannelTable.swift,
# their one source (an input's first byte is an index into them).
def route_channels():
    text = (ROOT / "Fuzz/Sources/FuzzRoute/ChannelTable.swift").read_text()
    table = text[text.index("static let channels"):]
    table = table[:table.index("].map")]
    return re.findall(r'"([^"]*)"', table)


ROUTE_CHANNELS = route_channels()
SPELLED_OUT = 0x7F


def vectors():
    """(channel or None, payload bytes) of every fixture vector."""
    for entry in json.loads((VECTORS / "reference.json").read_text()):
        if entry.get("hex"):
            yield entry.get("channel"), bytes.fromhex(entry["hex"])
    for line in (VECTORS / "captured.jsonl").read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            if entry.get("hex"):
                yield entry.get("channel"), bytes.fromhex(entry["hex"])
    # What stock sharded nodes published (ClusterAdapter messages), kept only as a fixture.
    for line in (COPIES / "sharded-captured.jsonl").read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            yield entry["channel"], bytes.fromhex(entry["hex"])


def codec_kind(channel):
    if channel is None:
        return CODEC_NONE
    if "-request#" in channel:
        return CODEC_REQUEST
    if "-response#" in channel:
        return CODEC_RESPONSE
    return CODEC_ROOM if channel.count("#") > 2 else CODEC_BROADCAST


def route_prefix(channel):
    # Room channels of the vectors are moved onto the rooms the harness's
    # registry has, so their payloads get past the room filter.
    if channel in ROUTE_CHANNELS:
        return bytes([ROUTE_CHANNELS.index(channel)])
    name = channel.encode()
    return bytes([SPELLED_OUT, len(name)]) + name


def js_strings():
    """JSON texts of the stringifier fixtures: payloads for the JSON parser."""
    for entry in json.loads((COPIES / "js-stringify.json").read_text()):
        if isinstance(entry.get("json"), str):
            yield entry["json"].encode()


def frame_examples():
    """Each hex dump of docs/local-protocol.md and docs/local-protocol-v2.md, as bytes."""
    text = "".join((ROOT / "docs" / name).read_text() for name in ("local-protocol.md", "local-protocol-v2.md"))
    for block in re.findall(r"```\n(length.*?)```", text, re.S):
        data = bytearray()
        for line in block.splitlines():
            fields = line.split("|")[0].split()[1:]
            data.extend(int(f, 16) for f in fields if re.fullmatch(r"[0-9a-fA-F]{2}", f))
        yield bytes(data)


def long_room_join():
    """A remoteJoin for one room of 70,000 bytes: the frame for the node
    cannot carry it (the trap of issue 12, see Fuzz/Sources/FuzzRoute/KnownTraps.swift)."""
    room = "r" * 70_000
    request = {"uid": "other1", "type": 2, "opts": {"rooms": ["room-a"], "except": []}, "rooms": [room]}
    return bytes([ROUTE_CHANNELS.index("socket.io-request#/#")]) + json.dumps(request).encode()


def msgpack_string(text):
    data = text.encode()
    if len(data) < 32:
        return bytes([0xA0 | len(data)]) + data
    return b"\xdb" + len(data).to_bytes(4, "big") + data


def oversized_deliver():
    """A broadcast to every socket of `/` whose packet makes a DELIVER frame
    over 16 MiB, the largest frame a connector accepts."""
    s = msgpack_string
    packet = b"\x83" + s("type") + b"\x02" + s("data") + b"\x92" + s("ev") + s("x" * (17 << 20)) + s("nsp") + s("/")
    options = b"\x83" + s("rooms") + b"\x90" + s("except") + b"\x90" + s("flags") + b"\x80"
    return bytes([ROUTE_CHANNELS.index("socket.io#/#")]) + b"\x93" + s("other1") + packet + options


def write(directory, data):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--oversized":
        write(pathlib.Path(sys.argv[2]), oversized_deliver())
        return
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    counts = {}
    for channel, payload in vectors():
        kind = codec_kind(channel)
        for flavor in (0, 8):
            write(out / "codec", bytes([kind | flavor]) + payload)
        if payload[:1] == b"{" or kind in (CODEC_REQUEST, CODEC_RESPONSE):
            write(out / "codec", bytes([CODEC_NONE]) + payload)
        if channel is not None:
            write(out / "route", route_prefix(channel) + payload)
            if kind in (CODEC_BROADCAST, CODEC_ROOM):
                # The same payload on channels whose rooms hold sockets here.
                for index in (0, 1, 5, 6):
                    write(out / "route", bytes([index | 0x80]) + payload)
            if kind == CODEC_REQUEST:
                write(out / "route", bytes([ROUTE_CHANNELS.index("socket.io-request#/#")]) + payload)
    for text in js_strings():
        write(out / "codec", bytes([CODEC_REQUEST]) + text)
    examples = list(frame_examples())
    for chunking, example in enumerate(examples):
        write(out / "local-frame", bytes([chunking]) + example)
    write(out / "local-frame", b"\x01" + b"".join(examples))
    write(out / "route", long_room_join())
    for target in ("codec", "local-frame", "route"):
        regressions = ROOT / "Fuzz/regressions" / target
        for path in sorted(regressions.glob("*")) if regressions.is_dir() else []:
            write(out / target, path.read_bytes())
        counts[target] = len(list((out / target).iterdir()))
    print("fuzz seeds: " + ", ".join(f"{target} {n}" for target, n in counts.items()))


if __name__ == "__main__":
    main()
