"use strict";
// The link to busd against a fake busd: handshake, PING, errors, back-off,
// reconnection and the broadcast queue.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { BusConnection } = require("../lib/connection");
const { encodeFrame } = require("../lib/frames");
const { FakeBusd } = require("../test-support/fake-busd");
const { waitFor, sleep, tempDir, quietLogger } = require("../test-support/wait");

async function setUp(t, options = {}, welcome = {}) {
  const socketPath = path.join(tempDir(), "busd.sock");
  const busd = new FakeBusd(socketPath, welcome);
  await busd.listen();
  const logger = quietLogger();
  const bus = new BusConnection({ path: socketPath, nodeName: "web-test", logger, initialDelayMs: 20, maxDelayMs: 100, ...options });
  t.after(async () => {
    await bus.close();
    await busd.close();
    fs.rmSync(path.dirname(socketPath), { recursive: true, force: true });
  });
  return { busd, bus, logger, socketPath };
}

function broadcastFrame(n) {
  return { type: "BROADCAST", namespace: "/", flags: {}, rooms: [], except: [], packet: `2["n",${n}]`, attachments: [] };
}

test("sends HELLO, takes WELCOME, reports its state", async (t) => {
  const { busd, bus } = await setUp(t, {}, { uid: "U1", nodeId: "web-1", ackTimeoutMs: 1234 });
  const ready = new Promise((resolve) => bus.once("ready", resolve));
  assert.equal(bus.connected, false);
  bus.start();
  const welcome = await ready;
  assert.deepEqual(busd.frames("HELLO"), [{ type: "HELLO", version: 2, node: "web-test", pid: process.pid }]);
  assert.deepEqual(welcome, { version: 2, uid: "U1", nodeId: "web-1", ackIdBase: 2 ** 52, ackTimeoutMs: 1234 });
  assert.equal(bus.version, 2);
  const stats = bus.stats();
  assert.equal(stats.connected, true);
  assert.equal(stats.state, "ready");
  assert.equal(stats.sessions, 1);
});

test("answers PING with PONG carrying the same token", async (t) => {
  const { busd, bus } = await setUp(t);
  bus.start();
  await waitFor(() => bus.connected);
  busd.send({ type: "PING", token: 0xfedcba9876543210n });
  const pong = await busd.next((frame) => frame.type === "PONG");
  assert.equal(pong.token, 0xfedcba9876543210n);
});

test("busd → node commands are emitted as frames, in order", async (t) => {
  const { busd, bus } = await setUp(t);
  const seen = [];
  bus.on("frame", (frame) => seen.push(frame));
  bus.start();
  await waitFor(() => bus.connected);
  busd.send(Buffer.concat([
    encodeFrame({ type: "SOCKETS_JOIN", namespace: "/", socketIds: ["a"], rooms: ["r"] }),
    encodeFrame({ type: "SERVER_SIDE_EMIT", namespace: "/", data: '["x"]' }),
  ]));
  await waitFor(() => seen.length === 2);
  assert.deepEqual(seen.map((frame) => frame.type), ["SOCKETS_JOIN", "SERVER_SIDE_EMIT"]);
});

test("a malformed frame from busd gets ERROR 1, then the connector reconnects", async (t) => {
  const { busd, bus } = await setUp(t);
  bus.start();
  await waitFor(() => bus.connected);
  busd.send(Buffer.from("0000000277ff", "hex")); // unknown type 0x77
  const error = await busd.next((frame) => frame.type === "ERROR");
  assert.equal(error.code, 1);
  await busd.waitForSession(2);
  await waitFor(() => bus.connected);
  assert.equal(bus.counters.protocolErrors, 1);
  assert.equal(bus.counters.sessionsLost, 1);
});

test("a frame other than WELCOME first gets ERROR 3", async (t) => {
  const { busd, bus } = await setUp(t);
  busd.autoWelcome = false;
  busd.once("frame", () => busd.send({ type: "SOCKETS_DISCONNECT", namespace: "/", socketIds: [], close: false }));
  bus.start();
  const error = await busd.next((frame) => frame.type === "ERROR");
  assert.equal(error.code, 3);
  assert.equal(bus.connected, false);
});

test("a busd that never answers HELLO is given up on and tried again", async (t) => {
  const { busd, bus } = await setUp(t, { handshakeTimeoutMs: 50 });
  busd.autoWelcome = false;
  bus.start();
  await busd.waitForSession(2);
  assert.match(bus.stats().lastError, /no WELCOME within 50 ms/);
  busd.autoWelcome = true;
  await waitFor(() => bus.connected, { what: "a session once busd answers" });
});

test("a busd that answers WELCOME 1 is spoken to in version 1, said once in the log", async (t) => {
  const { busd, bus, logger } = await setUp(t, {}, { version: 1 });
  bus.start();
  await waitFor(() => bus.connected);
  assert.equal(bus.version, 1);
  busd.dropConnection();
  await waitFor(() => bus.counters.sessions === 2 && bus.connected, { what: "the second session" });
  const said = logger.lines.filter((line) => line.includes("speaks local protocol version 1"));
  assert.equal(said.length, 1, "one line per process, not per session");
  // A v2-only frame from a v1 busd is unexpected.
  busd.send({ type: "ACK_COUNT", request: 1, clientCount: 1 });
  const error = await busd.next((frame) => frame.type === "ERROR");
  assert.equal(error.code, 3);
});

test("a busd that speaks only version 1 refuses HELLO 2: asked again at once for version 1, and again for 2 after that session", async (t) => {
  const { busd, bus, logger } = await setUp(t, {}, { version: 1 });
  busd.onlyVersion = 1;
  bus.start();
  await waitFor(() => bus.connected, { what: "the v1 session" });
  assert.deepEqual(busd.frames("HELLO").map((f) => f.version), [2, 1]);
  assert.equal(bus.version, 1);
  assert.equal(bus.counters.versionFallbacks, 1);
  assert.equal(logger.lines.filter((line) => line.includes("speaks local protocol version 1")).length, 1);
  // busd restarts, upgraded.
  busd.onlyVersion = null;
  busd.welcome.version = 2;
  busd.dropConnection();
  await waitFor(() => bus.counters.sessions === 2 && bus.connected, { what: "the v2 session" });
  assert.deepEqual(busd.frames("HELLO").map((f) => f.version), [2, 1, 2]);
  assert.equal(bus.version, 2);
});

test("a queued ROOMS_BROADCAST reaches a v1 busd as BROADCAST with room names; a queued CLUSTER_REQUEST is dropped and counted", async (t) => {
  const { busd, bus } = await setUp(t, {}, { version: 1 });
  bus.sendBroadcast({ type: "CLUSTER_REQUEST", request: 1, kind: 7, namespace: "/", timeoutMs: 0, body: ["ev"] });
  bus.sendBroadcast({ type: "ROOMS_BROADCAST", namespace: "/", flags: {}, rooms: [123, "a"], except: [], packet: "2[1]", attachments: [] });
  bus.start();
  const frame = await busd.next((f) => f.type === "BROADCAST");
  assert.deepEqual(frame.rooms, ["123", "a"]);
  assert.equal(busd.frames("CLUSTER_REQUEST").length, 0);
  assert.equal(bus.counters.broadcastsDropped, 1);
  assert.equal(bus.connected, true);
});

test("protocolVersion 1 asks for version 1; a WELCOME 2 to HELLO 1 gets ERROR 2", async (t) => {
  const { busd, bus } = await setUp(t, { protocolVersion: 1 }, { version: 1 });
  bus.start();
  await waitFor(() => bus.connected);
  assert.equal(busd.frames("HELLO")[0].version, 1);
  busd.welcome.version = 2;
  busd.dropConnection();
  const error = await busd.next((frame) => frame.type === "ERROR");
  assert.equal(error.code, 2);
  assert.equal(bus.counters.sessions, 1);
});

test("a WELCOME of another version gets ERROR 2", async (t) => {
  const { busd, bus } = await setUp(t, {}, { version: 3 });
  bus.start();
  const error = await busd.next((frame) => frame.type === "ERROR");
  assert.equal(error.code, 2);
  assert.equal(bus.counters.sessions, 0);
});

test("an ERROR from busd is recorded", async (t) => {
  const { busd, bus } = await setUp(t);
  bus.start();
  await waitFor(() => bus.connected);
  busd.send({ type: "ERROR", code: 5, message: "shutting down" });
  await waitFor(() => bus.counters.errorsReceived === 1);
  assert.match(bus.stats().lastError, /busd error 5: shutting down/);
});

test("ERROR 6 (busd skipped one frame) is counted and logged; the session and the frames after it go on", async (t) => {
  const { busd, bus, logger } = await setUp(t);
  const seen = [];
  bus.on("frame", (frame) => seen.push(frame));
  bus.start();
  await waitFor(() => bus.connected);
  busd.send({ type: "ERROR", code: 6, message: "BROADCAST packet: not a packet string" });
  busd.send({ type: "ERROR", code: 6, message: "BROADCAST packet: not a packet string" });
  busd.send({ type: "SOCKETS_JOIN", namespace: "/", socketIds: ["a"], rooms: ["r"] });
  await waitFor(() => seen.length === 1);
  assert.equal(bus.counters.framesRejectedByBusd, 2);
  assert.equal(bus.stats().lastError, null);
  assert.equal(logger.lines.filter((line) => line.includes("busd skipped a frame")).length, 1, "one line, not one per frame");
  assert.ok(bus.send(broadcastFrame(1)));
  await busd.next((frame) => frame.type === "BROADCAST");
  assert.equal(bus.connected, true);
  assert.equal(bus.counters.sessions, 1);
  assert.equal(bus.counters.sessionsLost, 0);
});

test("a BROADCAST over 16 MiB throws to the caller, nothing is written, the link stays", async (t) => {
  const { busd, bus } = await setUp(t);
  bus.start();
  await waitFor(() => bus.connected);
  const framesOut = bus.counters.framesOut;
  const big = { ...broadcastFrame(0), packet: Buffer.alloc(16 * 1024 * 1024) };
  assert.throws(() => bus.sendBroadcast(big), RangeError);
  assert.throws(() => bus.sendBroadcast({ ...broadcastFrame(0), rooms: ["r".repeat(65536)] }), RangeError);
  assert.equal(bus.counters.framesOut, framesOut);
  assert.ok(bus.sendBroadcast(broadcastFrame(2)));
  const frame = await busd.next((f) => f.type === "BROADCAST");
  assert.equal(String(frame.packet), '2["n",2]');
  assert.equal(bus.counters.sessions, 1);
});

test("back-off doubles from the initial delay up to the maximum, with jitter, and resets on WELCOME", () => {
  const bus = new BusConnection({ path: "/nonexistent", initialDelayMs: 100, maxDelayMs: 5000, logger: quietLogger() });
  const bounds = [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000];
  for (const base of bounds) {
    const delay = bus.nextDelay();
    assert.ok(delay >= base / 2 && delay <= base, `${delay} outside [${base / 2}, ${base}]`);
  }
  bus.attempt = 0; // what a WELCOME does
  assert.ok(bus.nextDelay() <= 100);
});

test("keeps retrying while busd is absent and links up when it appears", async (t) => {
  const socketPath = path.join(tempDir(), "busd.sock");
  const logger = quietLogger();
  const bus = new BusConnection({ path: socketPath, logger, initialDelayMs: 10, maxDelayMs: 40 });
  t.after(async () => {
    await bus.close();
    fs.rmSync(path.dirname(socketPath), { recursive: true, force: true });
  });
  bus.start();
  await waitFor(() => bus.counters.connectFailures >= 3, { what: "failed attempts" });
  assert.equal(logger.lines.filter((line) => line.startsWith("warn")).length, 1, "one warning per outage");
  const busd = new FakeBusd(socketPath);
  t.after(() => busd.close());
  await busd.listen();
  await waitFor(() => bus.connected, { what: "the session" });
});

test("after busd drops the link: 'down', reconnect, 'ready' again", async (t) => {
  const { busd, bus } = await setUp(t);
  const events = [];
  bus.on("down", () => events.push("down"));
  bus.on("ready", () => events.push("ready"));
  bus.start();
  await waitFor(() => bus.connected);
  busd.dropConnection();
  await waitFor(() => events.length === 3, { what: "down + ready" });
  assert.deepEqual(events, ["ready", "down", "ready"]);
  assert.equal(bus.counters.sessions, 2);
});

test("a once('ready') listener runs once, not again on the reconnect", async (t) => {
  const { busd, bus } = await setUp(t);
  let once = 0;
  let every = 0;
  bus.once("ready", () => once++);
  bus.on("ready", () => every++);
  bus.start();
  await waitFor(() => bus.connected);
  busd.dropConnection();
  await waitFor(() => every === 2, { what: "the second 'ready'" });
  assert.equal(once, 1);
  assert.equal(bus.listenerCount("ready"), 1);
});

test("node events are not sent without a session (the resync covers them)", async (t) => {
  const { bus } = await setUp(t);
  assert.equal(bus.send({ type: "SOCKET_LEAVE", namespace: "/", socketId: "s", rooms: ["r"] }), false);
  assert.equal(bus.counters.framesSkipped, 1);
});

test("broadcasts wait in a bounded queue while busd is away, oldest dropped, sent after the resync", async (t) => {
  const { busd, bus } = await setUp(t, { maxQueuedBroadcasts: 3 });
  bus.on("ready", () => bus.send({ type: "SOCKET_CONNECT", namespace: "/", socketId: "resync", connectedAt: 1 }));
  for (let n = 1; n <= 5; n++) bus.sendBroadcast(broadcastFrame(n));
  assert.equal(bus.stats().queuedBroadcasts, 3);
  assert.equal(bus.counters.broadcastsDropped, 2);
  bus.start();
  await waitFor(() => busd.frames("BROADCAST").length === 3);
  const types = busd.received.map((frame) => frame.type);
  assert.deepEqual(types, ["HELLO", "SOCKET_CONNECT", "BROADCAST", "BROADCAST", "BROADCAST"]);
  assert.deepEqual(busd.frames("BROADCAST").map((frame) => frame.packet.toString()), ['2["n",3]', '2["n",4]', '2["n",5]']);
  assert.equal(bus.stats().queuedBroadcasts, 0);
  assert.equal(bus.counters.broadcastsSent, 3);
});

test("the queue is bounded in bytes too", async (t) => {
  const { bus } = await setUp(t, { maxQueuedBytes: 100 });
  const size = encodeFrame(broadcastFrame(0)).length;
  for (let n = 0; n < 10; n++) bus.sendBroadcast(broadcastFrame(n));
  assert.equal(bus.stats().queuedBroadcasts, Math.floor(100 / size));
  assert.ok(bus.stats().queuedBytes <= 100);
});

test("close() ends the session for good", async (t) => {
  const { busd, bus } = await setUp(t);
  bus.start();
  await waitFor(() => bus.connected);
  await bus.close();
  assert.equal(bus.state, "closed");
  await sleep(100);
  assert.equal(busd.hellos, 1, "no reconnect after close()");
  assert.equal(bus.sendBroadcast(broadcastFrame(1)), false);
});

test("the socket path defaults to SOCKETBUS_SOCKET_PATH, the variable busd reads", () => {
  const { execFileSync } = require("node:child_process");
  const lib = require("node:path").join(__dirname, "..", "lib", "connection.js");
  const read = (env) =>
    execFileSync(process.execPath, ["-e", `console.log(require(${JSON.stringify(lib)}).DEFAULTS.path)`], {
      env: { PATH: process.env.PATH, ...env },
    })
      .toString()
      .trim();
  assert.equal(read({ SOCKETBUS_SOCKET_PATH: "/tmp/socketbus-test/busd-3.sock" }), "/tmp/socketbus-test/busd-3.sock");
  assert.equal(read({}), "/run/socketbus/busd.sock");
});
