"use strict";
// The Emitter's messages against @socket.io/redis-emitter 5.1.0's, byte for
// byte: the captures in ../shared/vectors (made by the stock emitter through
// node-redis) and the stock emitter itself run side by side here, both
// publishing into a recording client. Also the options argument rule and
// the confirmation-record parser's hostility handling.

const { describe, it } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { Emitter } = require("..");
const { parseRecord, encodeMsgpack } = require("../lib/emitter");
const { stock, skipReason } = require("../test-support/stock");

// The repository's copy of ../shared/vectors/captured.jsonl (the same bytes).
const VECTORS = path.resolve(__dirname, "../../../Tests/SocketIOCodecTests/Fixtures/captured.jsonl");

/** Publish-only client: what both emitters need to run here; records (channel, payload). */
function recorder() {
  const published = [];
  const client = {
    published,
    publish: async (channel, payload) => (published.push({ channel, hex: Buffer.from(payload).toString("hex") }), 0),
    duplicate: () => {
      throw new Error("no subscriptions here");
    },
  };
  return client;
}

// The captured calls, in the order of the capture (see each line's description).
const A = "AgUEon6wzXtHqqioAAAB";
const A_CHAT = "kjd6nH2e29v_GNS3AAAC";
const CALLS = [
  (e) => e.to(A).emit("findSocket", { hello: "world", n: 1 }),
  (e) => e.of("/chat").emit("findSocket", { hello: "chat" }),
  (e) => e.of("/chat").to(A_CHAT).emit("findSocket", { where: "chat-sid" }),
  (e) => e.emit("broadcastAll", "plain string", 42, true, null),
  (e) => e.to("roomA").emit("toRoom", { room: "roomA" }),
  (e) => e.to(["roomA", "roomB"]).except("roomC").emit("multi", { rooms: ["roomA", "roomB"], except: "roomC" }),
  (e) => e.except("roomA").emit("exceptOnly", "not for roomA"),
  (e) => e.to("roomA").emit("bin", { name: "file.bin", data: Buffer.from([0, 1, 2, 0xfe, 0xff]) }),
  (e) => e.to("roomB").emit("bin2", Buffer.from([0xde, 0xad, 0xbe, 0xef]), "text", Buffer.alloc(0)),
  (e) => e.volatile.emit("vol", { v: 1 }),
  (e) => e.compress(false).to("roomB").emit("nocompress", { c: false }),
  (e) => e.serverSideEmit("hello", { from: "emitter" }, 2),
  (e) => e.of("/chat").serverSideEmit("hello", "chat-ns"),
  (e) => e.in(A).socketsJoin("joinedRemote"),
  (e) => e.to("joinedRemote").emit("afterJoin", 1),
  (e) => e.in("roomC").socketsLeave(["roomA"]),
  (e) => e.in(A).socketsLeave("joinedRemote"),
];

describe("Emitter: the stock emitter's bytes", () => {
  it("matches the captures of @socket.io/redis-emitter 5.1.0 in ../shared/vectors", () => {
    const captured = fs
      .readFileSync(VECTORS, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((entry) => /redis-emitter/.test(entry.producer || ""));
    assert.equal(captured.length, CALLS.length);
    const client = recorder();
    const emitter = new Emitter(client);
    for (const call of CALLS) call(emitter);
    assert.deepEqual(client.published, captured.map(({ channel, hex }) => ({ channel, hex })));
  });

  it("matches the stock emitter run side by side, for awkward values", { skip: skipReason || false }, () => {
    const { Emitter: StockEmitter } = require("@socket.io/redis-emitter");
    const values = [0, -0, 127, 128, 65536, 2 ** 32, 2 ** 53 - 1, -33, -(2 ** 31) - 1, 1.5, NaN, -Infinity,
      "a".repeat(31), "a".repeat(32), "é".repeat(200), "x".repeat(70000), "😀", undefined, new Array(16).fill(1),
      Object.fromEntries([...Array(17)].map((_, i) => [`k${i}`, i])), Buffer.alloc(300), new Uint8Array([1, 2, 3]),
      new Date(1700000000000), { f: () => 1, u: undefined, j: { toJSON: () => "j" } }];
    const ours = recorder();
    const theirs = recorder();
    for (const [index, emitter] of [new Emitter(ours), new StockEmitter(theirs)].entries()) {
      void index;
      emitter.of("nsp").to("r").emit("all", ...values);
      emitter.to(["a", "b"]).except(["c", "d"]).volatile.compress(true).emit("many", { nested: [values] });
      emitter.of("/x").in("room").emit("one");
      emitter.of("/x").disconnectSockets(true);
      emitter.except("e").socketsJoin(["r1", "r2"]);
    }
    assert.deepEqual(ours.published, theirs.published);
    assert.equal(ours.published.length, 5);
    assert.throws(() => new Emitter(ours).emit("disconnect"), /reserved event name/);
  });

  it("adds opts.socketbus after the stock keys for a confirmed emit", () => {
    const { payload, channel } = new Emitter(recorder()).to("u1").message("ev", [1], { id: "m", ack: true, timeout: 800 });
    assert.equal(channel, "socket.io#/#u1#");
    const expected = encodeMsgpack(["emitter", { type: 2, data: ["ev", 1], nsp: "/" },
      { rooms: ["u1"], flags: {}, except: [], socketbus: { id: "m", ack: true, timeout: 800 } }]);
    assert.equal(payload.toString("hex"), expected.toString("hex"));
  });
});

describe("confirmation records", () => {
  it("parses the two documented shapes", () => {
    const d = { type: "dispatched", messageId: "m1", node: "n", namespace: "/", ackId: 4503599627370497, sockets: ["s"], timeoutMs: 1, time: 1 };
    const c = { type: "confirmation", messageId: "m1", socketId: "s", node: "n", namespace: "/", status: "delivered", ackId: 1, time: 1, latencyMs: 2, args: ["ok"] };
    assert.deepEqual(parseRecord(JSON.stringify(d)), d);
    assert.deepEqual(parseRecord(Buffer.from(JSON.stringify(c))), c);
    // What busd writes for a timeout (and a disconnect): args null.
    const timeout = { ...c, status: "timeout", args: null };
    assert.deepEqual(parseRecord(JSON.stringify(timeout)), timeout);
  });

  it("skips malformed records instead of throwing", () => {
    for (const text of ["", "{", "null", "[]", "42", '"x"', "{}", '{"type":"confirmation"}',
      '{"type":"confirmation","messageId":"m","socketId":"s","status":"maybe"}',
      '{"type":"confirmation","messageId":"m","socketId":7,"status":"delivered"}',
      '{"type":"confirmation","messageId":"m","socketId":"s","status":"delivered","args":"no"}',
      '{"type":"dispatched","messageId":"m","node":"n","sockets":"s"}',
      '{"type":"dispatched","messageId":"m","node":"n","sockets":[1]}',
      '{"type":"other","messageId":"m"}', "\u0000\xff\xfe", Buffer.from([0xc0, 0xff])]) {
      assert.equal(parseRecord(text), null, String(text));
    }
  });
});

describe("emitWithConfirmation's arguments", () => {
  it("takes a last plain object with only timeout/id as the options", () => {
    const { isOptions } = require("../lib/emitter/emitter");
    assert.equal(isOptions({ timeout: 5 }), true);
    assert.equal(isOptions({ id: "x", timeout: 5 }), true);
    assert.equal(isOptions({ id: "x", text: "y" }), false);
    assert.equal(isOptions(Buffer.alloc(1)), false);
    assert.equal(isOptions([]), false);
  });
});
