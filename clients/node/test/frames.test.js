"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const frames = require("../lib/frames");
const { docExamples, DOC_V2 } = require("../test-support/doc-examples");

const { encodeFrame, FrameDecoder, ProtocolError, ERROR_CODES, TYPES, V2_TYPES } = frames;
const V1_NAMES = Object.keys(TYPES).filter((name) => !V2_TYPES.has(name));

const SID = "AgUEon6wzXtHqqioAAAB";

// What each example of docs/local-protocol.md holds, as this codec's objects.
const EXPECTED = {
  HELLO: { type: "HELLO", version: 1, node: "web-1", pid: 4242 },
  WELCOME: { type: "WELCOME", version: 1, uid: "osO7f9", nodeId: "web-1", ackIdBase: 4503599627370496, ackTimeoutMs: 30000 },
  ERROR: { type: "ERROR", code: 1, message: "bad frame" },
  PING: { type: "PING", token: 7n },
  PONG: { type: "PONG", token: 7n },
  SOCKET_CONNECT: { type: "SOCKET_CONNECT", namespace: "/", socketId: SID, connectedAt: 1795237379219 },
  SOCKET_DISCONNECT: { type: "SOCKET_DISCONNECT", namespace: "/", socketId: SID, reason: "transport close" },
  SOCKET_JOIN: { type: "SOCKET_JOIN", namespace: "/", socketId: SID, rooms: ["roomA"] },
  SOCKET_LEAVE: { type: "SOCKET_LEAVE", namespace: "/", socketId: SID, rooms: ["roomA"] },
  BROADCAST: {
    type: "BROADCAST", namespace: "/", flags: { volatile: true, compress: undefined }, rooms: ["roomA"], except: [],
    packet: Buffer.from('2["news",1]'), attachments: [],
  },
  DELIVER: {
    type: "DELIVER", ackId: 4503599627370497, flags: { volatile: false, compress: false }, namespace: "/", socketIds: [SID],
    packet: Buffer.from('51-4503599627370497["bin",{"_placeholder":true,"num":0}]'), attachments: [Buffer.from([0, 1, 2, 0xfe, 0xff])],
  },
  ACKED: { type: "ACKED", ackId: 4503599627370497, socketId: SID, status: 1, arguments: ["ok"] },
  SOCKETS_JOIN: { type: "SOCKETS_JOIN", namespace: "/", socketIds: [SID], rooms: ["joinedRemote"] },
  SOCKETS_LEAVE: { type: "SOCKETS_LEAVE", namespace: "/", socketIds: [SID], rooms: ["joinedRemote"] },
  SOCKETS_DISCONNECT: { type: "SOCKETS_DISCONNECT", namespace: "/", socketIds: [SID], close: true },
  SERVER_SIDE_EMIT: { type: "SERVER_SIDE_EMIT", namespace: "/", data: Buffer.from('["hello",2]') },
};

function decodeAll(...chunks) {
  const decoder = new FrameDecoder();
  const out = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let frame; (frame = decoder.next()) !== null; ) out.push(frame);
  }
  assert.equal(decoder.buffered, 0, "bytes left in the decoder");
  return out;
}

function frameBytes(type, body) {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = type;
  return Buffer.concat([head, body]);
}

function decodeError(bytes) {
  const decoder = new FrameDecoder();
  decoder.push(bytes);
  try {
    decoder.next();
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${err}`);
    return err;
  }
  assert.fail(`no error for ${bytes.toString("hex")}`);
}

test("the protocol document has one example per frame type of version 1", () => {
  const examples = docExamples();
  assert.deepEqual([...examples.keys()].sort(), V1_NAMES.sort());
});

for (const [name, bytes] of docExamples()) {
  test(`${name}: matches the document's hex dump both ways`, () => {
    assert.deepEqual(encodeFrame(EXPECTED[name]).toString("hex"), bytes.toString("hex"));
    assert.deepEqual(decodeAll(bytes), [EXPECTED[name]]);
  });

  test(`${name}: decodes when cut at every byte`, () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      assert.deepEqual(decodeAll(bytes.subarray(0, cut), bytes.subarray(cut)), [EXPECTED[name]], `cut at ${cut}`);
    }
  });
}

test("all frame types, one byte at a time, back to back", () => {
  const all = [...docExamples().values()];
  const stream = Buffer.concat(all);
  const chunks = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  assert.deepEqual(decodeAll(...chunks), [...docExamples().keys()].map((name) => EXPECTED[name]));
  assert.deepEqual(decodeAll(stream), [...docExamples().keys()].map((name) => EXPECTED[name]));
});

test("round trips: unicode, empty lists, big values, every flags combination", () => {
  const cases = [
    { type: "SOCKET_JOIN", namespace: "/chat", socketId: "s1", rooms: ["é", "部屋", "🎉", ""] },
    { type: "SOCKET_LEAVE", namespace: "/", socketId: "s1", rooms: [] },
    { type: "PING", token: 0xffffffffffffffffn },
    { type: "DELIVER", ackId: 0, flags: { volatile: true, compress: true }, namespace: "/", socketIds: [], packet: Buffer.alloc(0), attachments: [Buffer.alloc(0), Buffer.from([1])] },
    { type: "DELIVER", ackId: Number.MAX_SAFE_INTEGER, flags: { volatile: false, compress: undefined }, namespace: "/", socketIds: ["a", "b"], packet: Buffer.from("2[1]"), attachments: [] },
    { type: "ACKED", ackId: 4503599627370496, socketId: "s", status: 3, arguments: [] },
    { type: "WELCOME", version: 1, uid: "", nodeId: "n", ackIdBase: 0, ackTimeoutMs: 0xffffffff },
  ];
  for (const frame of cases) assert.deepEqual(decodeAll(encodeFrame(frame)), [frame]);
  for (let byte = 0; byte < 8; byte++) {
    if ((byte & 6) === 4) continue; // compress value without "given": not produced
    assert.equal(frames.flagsToByte(frames.flagsFromByte(byte)), byte);
  }
});

test("encoder accepts strings for blobs and a JSON string for ACKED arguments", () => {
  const a = encodeFrame({ type: "BROADCAST", namespace: "/", flags: {}, rooms: [], except: [], packet: '2["é"]', attachments: [new Uint8Array([9])] });
  const b = encodeFrame({ type: "BROADCAST", namespace: "/", flags: { volatile: false }, rooms: [], except: [], packet: Buffer.from('2["é"]'), attachments: [Buffer.from([9])] });
  assert.deepEqual(a, b);
  const acked = { type: "ACKED", ackId: 1, socketId: "s", status: 1 };
  assert.deepEqual(encodeFrame({ ...acked, arguments: '["ok",1]' }), encodeFrame({ ...acked, arguments: ["ok", 1] }));
});

test("encoder refuses what the layout cannot hold", () => {
  assert.throws(() => encodeFrame({ type: "SOCKET_JOIN", namespace: "x".repeat(65536), socketId: "s", rooms: [] }), RangeError);
  assert.throws(() => encodeFrame({ type: "NOPE" }), TypeError);
});

test("malformed frames are rejected with the protocol's error codes", () => {
  const ok = docExamples().get("SOCKET_JOIN");
  const body = ok.subarray(5);
  const cases = [
    ["length 0", Buffer.from("00000000", "hex"), ERROR_CODES.TOO_LARGE],
    ["length above 16 MiB", Buffer.from("0100000105", "hex"), ERROR_CODES.TOO_LARGE],
    ["unknown type", frameBytes(0x7f, Buffer.alloc(0)), ERROR_CODES.MALFORMED],
    ["empty HELLO", frameBytes(TYPES.HELLO, Buffer.alloc(0)), ERROR_CODES.MALFORMED],
    ["a byte left over", frameBytes(TYPES.SOCKET_JOIN, Buffer.concat([body, Buffer.from([0])])), ERROR_CODES.MALFORMED],
    ["field running past the end", frameBytes(TYPES.SOCKET_JOIN, body.subarray(0, body.length - 1)), ERROR_CODES.MALFORMED],
    ["list count larger than the frame", frameBytes(TYPES.SOCKET_JOIN, Buffer.concat([body.subarray(0, 25), Buffer.from("0000ffff", "hex")])), ERROR_CODES.MALFORMED],
    ["invalid UTF-8", frameBytes(TYPES.SOCKET_DISCONNECT, Buffer.from("0001ff0001730000", "hex")), ERROR_CODES.MALFORMED],
    ["ack status 0", frameBytes(TYPES.ACKED, Buffer.from("0000000000000001" + "000173" + "00" + "00000002" + "5b5d", "hex")), ERROR_CODES.MALFORMED],
    ["ACKED arguments not an array", frameBytes(TYPES.ACKED, Buffer.from("0000000000000001" + "000173" + "01" + "00000002" + "7b7d", "hex")), ERROR_CODES.MALFORMED],
    ["ACKED arguments not JSON", frameBytes(TYPES.ACKED, Buffer.from("0000000000000001" + "000173" + "01" + "00000001" + "5b", "hex")), ERROR_CODES.MALFORMED],
    ["ack id beyond 2^53-1", frameBytes(TYPES.ACKED, Buffer.from("0020000000000000" + "000173" + "01" + "00000002" + "5b5d", "hex")), ERROR_CODES.MALFORMED],
  ];
  for (const [what, bytes, code] of cases) {
    assert.equal(decodeError(bytes).code, code, what);
  }
});

test("a lying length prefix is refused before its body is buffered", () => {
  const decoder = new FrameDecoder();
  decoder.push(Buffer.from("ffffffff", "hex"));
  assert.throws(() => decoder.next(), (err) => err.code === ERROR_CODES.TOO_LARGE);
});

test("a frame of exactly 16 MiB is accepted, one byte more is not", () => {
  const max = frames.MAX_LENGTH;
  // SERVER_SIDE_EMIT: type(1) + namespace(2+1) + blob length(4) + data
  const data = Buffer.alloc(max - 8, 0x20);
  data[0] = 0x5b;
  data[data.length - 1] = 0x5d;
  const frame = { type: "SERVER_SIDE_EMIT", namespace: "/", data };
  const bytes = encodeFrame(frame);
  assert.equal(bytes.readUInt32BE(0), max);
  const [decoded] = decodeAll(bytes.subarray(0, 1000), bytes.subarray(1000));
  assert.equal(decoded.data.length, data.length);
  assert.throws(() => encodeFrame({ ...frame, data: Buffer.alloc(max - 7) }), RangeError);
});

// ---- version 2 (docs/local-protocol-v2.md) ----

const SAMPLE_V2 = {
  NAMESPACE: { type: "NAMESPACE", namespace: "/chat" },
  ROOMS_JOIN: { type: "ROOMS_JOIN", namespace: "/", socketId: SID, rooms: [SID, "roomA", 123, -1.5, ""] },
  ROOMS_LEAVE: { type: "ROOMS_LEAVE", namespace: "/", socketId: SID, rooms: [123] },
  ROOMS_BROADCAST: {
    type: "ROOMS_BROADCAST", namespace: "/", flags: { volatile: true, compress: false }, rooms: [123, "roomA"], except: ["123"],
    packet: Buffer.from('2["news",1]'), attachments: [Buffer.from([0, 0xff])],
  },
  DELIVERED: { type: "DELIVERED", ackId: 4503599627370497, namespace: "/", socketIds: [SID, "b"] },
  ANSWER: { type: "ANSWER", request: 0xffffffff, status: 0, body: [{ id: SID, handshake: { auth: {} }, rooms: [SID, 7], data: { n: 1 } }] },
  CLUSTER_REQUEST: { type: "CLUSTER_REQUEST", request: 1, kind: 2, namespace: "/", timeoutMs: 5000, body: { rooms: [1, "a"], except: [] } },
  BROADCAST_WITH_ACK: {
    type: "BROADCAST_WITH_ACK", request: 9, namespace: "/", flags: { volatile: false, compress: undefined }, rooms: [], except: [SID],
    timeoutMs: 2000, packet: Buffer.from('2["ask"]'), attachments: [],
  },
  DELIVER_TO_ROOMS: {
    type: "DELIVER_TO_ROOMS", ackId: 0, flags: { volatile: false, compress: true }, namespace: "/", rooms: ["room1"], except: [42],
    packet: Buffer.from('2["x"]'), attachments: [],
  },
  APPLY: { type: "APPLY", op: 3, namespace: "/", rooms: [], except: ["vip"], targets: [], close: true },
  QUESTION: { type: "QUESTION", request: 3, kind: 2, namespace: "/", body: ["ping", 1] },
  CLUSTER_REPLY: { type: "CLUSTER_REPLY", request: 3, status: 1, body: { responses: ["pong"], expected: 2 } },
  ACK_COUNT: { type: "ACK_COUNT", request: 3, clientCount: 4 },
  ACK_ARGUMENT: { type: "ACK_ARGUMENT", request: 3, argument: "yes" },
};

test("version 2: a sample of every added frame type round-trips, also cut at every byte", () => {
  assert.deepEqual(Object.keys(SAMPLE_V2).sort(), [...V2_TYPES].sort());
  for (const [name, frame] of Object.entries(SAMPLE_V2)) {
    const bytes = encodeFrame(frame);
    assert.equal(bytes[4], TYPES[name], `${name} type byte`);
    assert.deepEqual(decodeAll(bytes), [frame], name);
    for (let cut = 0; cut <= bytes.length; cut++) assert.deepEqual(decodeAll(bytes.subarray(0, cut), bytes.subarray(cut)), [frame], `${name} cut at ${cut}`);
  }
});

test("version 2: rooms keep their type (tag 0 string, tag 1 f64), byte for byte", () => {
  const bytes = encodeFrame({ type: "ROOMS_LEAVE", namespace: "/", socketId: "s", rooms: ["123", 123] });
  // length, type, "/" , "s", count 2, tag 0 "123", tag 1 123.0
  assert.equal(bytes.toString("hex"), "0000001a" + "17" + "00012f" + "000173" + "00000002" + "00" + "0003313233" + "01" + "405ec00000000000");
});

test("version 2: an empty value blob is undefined, any JSON value otherwise", () => {
  const reply = (body) => decodeAll(encodeFrame({ type: "CLUSTER_REPLY", request: 1, status: 0, body }))[0].body;
  assert.equal(reply(undefined), undefined);
  assert.equal(encodeFrame({ type: "CLUSTER_REPLY", request: 1, status: 0, body: undefined }).length, 4 + 1 + 4 + 1 + 4);
  for (const value of [null, 0, "", "x", [1, "2"], { count: 3 }, false]) assert.deepEqual(reply(value), value);
});

test("version 2: malformed rooms and values are refused", () => {
  const body = (hex) => frameBytes(TYPES.ROOMS_JOIN, Buffer.from("00012f" + "000173" + hex, "hex"));
  assert.equal(decodeError(body("00000001" + "02" + "0000")).code, ERROR_CODES.MALFORMED, "room tag 2");
  assert.equal(decodeError(body("00000001" + "01" + "405ec000")).code, ERROR_CODES.MALFORMED, "f64 cut short");
  assert.equal(decodeError(body("00ffffff")).code, ERROR_CODES.MALFORMED, "room count beyond the frame");
  assert.equal(decodeError(frameBytes(TYPES.CLUSTER_REPLY, Buffer.from("00000001" + "00" + "00000001" + "7b", "hex"))).code, ERROR_CODES.MALFORMED, "body not JSON");
});

test("version 2: a ROOMS_BROADCAST becomes v1's BROADCAST with names", () => {
  const v1 = frames.toV1Broadcast(SAMPLE_V2.ROOMS_BROADCAST);
  assert.equal(v1.type, "BROADCAST");
  assert.deepEqual(v1.rooms, ["123", "roomA"]);
  assert.deepEqual(decodeAll(encodeFrame(v1))[0].rooms, ["123", "roomA"]);
});

test("version 2: non-finite numeric rooms are refused both ways; an APPLY op outside 1-3 is malformed", () => {
  for (const room of [NaN, Infinity, -Infinity]) {
    assert.throws(() => encodeFrame({ type: "ROOMS_LEAVE", namespace: "/", socketId: "s", rooms: [room] }), RangeError);
  }
  const nan = frameBytes(TYPES.ROOMS_LEAVE, Buffer.from("00012f" + "000173" + "00000001" + "01" + "7ff8000000000000", "hex"));
  assert.equal(decodeError(nan).code, ERROR_CODES.MALFORMED);
  const apply = encodeFrame(SAMPLE_V2.APPLY);
  apply[5] = 4; // op
  assert.equal(decodeError(apply).code, ERROR_CODES.MALFORMED);
});

const V2_EXPECTED = {
  NAMESPACE: { type: "NAMESPACE", namespace: "/chat" },
  ROOMS_JOIN: { type: "ROOMS_JOIN", namespace: "/", socketId: SID, rooms: ["roomA", 123] },
  ROOMS_LEAVE: { type: "ROOMS_LEAVE", namespace: "/", socketId: SID, rooms: [123] },
  ROOMS_BROADCAST: {
    type: "ROOMS_BROADCAST", namespace: "/", flags: { volatile: false, compress: undefined }, rooms: [123], except: ["AgUEon6wzXtHqqioAAAC"],
    packet: Buffer.from('2["news",1]'), attachments: [],
  },
  DELIVERED: { type: "DELIVERED", ackId: 4503599627370497, namespace: "/", socketIds: [SID] },
  ANSWER: { type: "ANSWER", request: 7, status: 0, body: ["pong"] },
  CLUSTER_REQUEST: { type: "CLUSTER_REQUEST", request: 1, kind: 2, namespace: "/", timeoutMs: 5000, body: { rooms: ["roomA"], except: [] } },
  BROADCAST_WITH_ACK: {
    type: "BROADCAST_WITH_ACK", request: 2, namespace: "/", flags: { volatile: false, compress: undefined }, rooms: ["roomA"], except: [],
    timeoutMs: 2000, packet: Buffer.from('27["x",1]'), attachments: [],
  },
  DELIVER_TO_ROOMS: {
    type: "DELIVER_TO_ROOMS", ackId: 4503599627370497, flags: { volatile: false, compress: undefined }, namespace: "/",
    rooms: ["roomA", 123], except: [SID], packet: Buffer.from('24503599627370497["x",1]'), attachments: [],
  },
  APPLY: { type: "APPLY", op: 1, namespace: "/", rooms: ["roomA"], except: [], targets: ["vip"], close: false },
  QUESTION: { type: "QUESTION", request: 3, kind: 1, namespace: "/", body: { rooms: ["roomA"], except: [] } },
  CLUSTER_REPLY: { type: "CLUSTER_REPLY", request: 1, status: 0, body: { count: 3 } },
  ACK_COUNT: { type: "ACK_COUNT", request: 2, clientCount: 4 },
  ACK_ARGUMENT: { type: "ACK_ARGUMENT", request: 2, argument: "ok" },
};

// The hex dumps of docs/local-protocol-v2.md: each must decode to the frame
// it shows and encode back to the same bytes.
const v2Examples = docExamples(DOC_V2);
test("version 2: the document's hex dumps", { skip: v2Examples.size === 0 && "docs/local-protocol-v2.md has no hex dumps yet" }, () => {
  for (const [name, bytes] of v2Examples) {
    const [frame] = decodeAll(bytes);
    if (V2_EXPECTED[name]) {
      assert.deepEqual(frame, V2_EXPECTED[name], `${name} example decodes to what it shows`);
      assert.equal(encodeFrame(V2_EXPECTED[name]).toString("hex"), bytes.toString("hex"), `${name} encodes to the dump`);
    }
    assert.ok(name.startsWith(frame.type), `${name} example decodes as ${frame.type}`);
    assert.equal(encodeFrame(frame).toString("hex"), bytes.toString("hex"), `${name} encodes back to the dump`);
  }
  for (const name of V2_TYPES) assert.ok([...v2Examples.keys()].some((key) => key.startsWith(name)), `an example of ${name}`);
});
