"use strict";
// The adapter inside a stand-in socket.io server, against a fake busd.
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { createAdapter } = require("..");
const { FakeServer } = require("../test-support/fake-socketio");
const { FakeBusd } = require("../test-support/fake-busd");
const { waitFor, sleep, tempDir, quietLogger } = require("../test-support/wait");

async function setUp(t, { welcome = {}, options = {} } = {}) {
  const socketPath = path.join(tempDir(), "busd.sock");
  const busd = new FakeBusd(socketPath, welcome);
  await busd.listen();
  const Adapter = createAdapter({ path: socketPath, logger: quietLogger(), initialDelayMs: 20, maxDelayMs: 100, ...options });
  const io = new FakeServer(Adapter);
  const nsp = io.of("/");
  t.after(async () => {
    await io.close();
    await busd.close();
    fs.rmSync(path.dirname(socketPath), { recursive: true, force: true });
  });
  await waitFor(() => Adapter.bus.connected, { what: "the session" });
  return { busd, Adapter, io, nsp, adapter: nsp.adapter };
}

/** Frames received after `mark`, as [type, ...interesting fields]. */
function summary(busd, mark = 0) {
  return busd.received.slice(mark).filter((f) => f.type !== "HELLO").map((frame) => {
    switch (frame.type) {
      case "SOCKET_CONNECT": return [frame.type, frame.namespace, frame.socketId];
      case "SOCKET_DISCONNECT": return [frame.type, frame.namespace, frame.socketId, frame.reason];
      case "SOCKET_JOIN": case "SOCKET_LEAVE": return [frame.type, frame.namespace, frame.socketId, frame.rooms];
      default: return [frame.type];
    }
  });
}

test("connects, joins, leaves and disconnects reach busd", async (t) => {
  const { busd, nsp, adapter } = await setUp(t);
  const before = Date.now();
  const a = nsp.connect("sidA");
  a.join(["r1", "r2"]);
  a.join("r1"); // already in: nothing new to tell
  a.leave("r2");
  a.leave("never-joined");
  a.disconnect();
  await waitFor(() => busd.frames("SOCKET_DISCONNECT").length === 1);
  assert.deepEqual(summary(busd), [
    ["SOCKET_CONNECT", "/", "sidA"],
    ["SOCKET_JOIN", "/", "sidA", ["sidA"]],
    ["SOCKET_JOIN", "/", "sidA", ["r1", "r2"]],
    ["SOCKET_LEAVE", "/", "sidA", ["r2"]],
    ["SOCKET_DISCONNECT", "/", "sidA", "server namespace disconnect"],
  ]);
  const connectedAt = busd.frames("SOCKET_CONNECT")[0].connectedAt;
  assert.ok(connectedAt >= before && connectedAt <= Date.now());
  assert.equal(adapter.sids.size, 0);
  assert.equal(adapter.rooms.size, 0);
});

test("keeps rooms and sids like socket.io-adapter, with its events", async (t) => {
  const { nsp, adapter } = await setUp(t);
  const events = [];
  for (const name of ["create-room", "delete-room", "join-room", "leave-room"]) adapter.on(name, (...args) => events.push([name, ...args]));
  const a = nsp.connect("A");
  a.join("room");
  const b = nsp.connect("B");
  b.join("room");
  assert.deepEqual([...adapter.rooms.get("room")], ["A", "B"]);
  assert.deepEqual([...adapter.socketRooms("A")], ["A", "room"]);
  a.leave("room");
  b.disconnect();
  assert.equal(adapter.rooms.has("room"), false);
  assert.deepEqual(events, [
    ["create-room", "A"], ["join-room", "A", "A"], ["create-room", "room"], ["join-room", "room", "A"],
    ["create-room", "B"], ["join-room", "B", "B"], ["join-room", "room", "B"],
    ["leave-room", "room", "A"],
    ["leave-room", "B", "B"], ["delete-room", "B"], ["leave-room", "room", "B"], ["delete-room", "room"],
  ]);
});

test("node broadcasts: delivered locally with the adapter's selection, forwarded once as BROADCAST", async (t) => {
  const { busd, nsp } = await setUp(t);
  const a = nsp.connect("A");
  const b = nsp.connect("B");
  const c = nsp.connect("C");
  a.join(["roomA", "roomB"]);
  b.join("roomB");
  c.join("roomC");
  nsp.emit(["news", 1], { rooms: ["roomA", "roomB"], except: ["roomC", "A"] });
  assert.deepEqual(a.written, []);
  assert.deepEqual(b.written, ['2["news",1]']);
  assert.deepEqual(c.written, []);
  assert.deepEqual(b.client.writes[0].opts, { preEncoded: true, volatile: undefined, compress: undefined });
  const frame = await busd.next((f) => f.type === "BROADCAST");
  assert.deepEqual(
    { ...frame, packet: frame.packet.toString() },
    { type: "BROADCAST", namespace: "/", flags: { volatile: false, compress: undefined }, rooms: ["roomA", "roomB"], except: ["roomC", "A"], packet: '2["news",1]', attachments: [] },
  );

  nsp.emit(["all"], { flags: { volatile: true, compress: false } });
  for (const socket of [a, b, c]) assert.equal(socket.written.at(-1), '2["all"]');
  assert.deepEqual(c.client.writes.at(-1).opts, { preEncoded: true, volatile: true, compress: false });
  const all = await busd.next((f) => f.type === "BROADCAST" && f.rooms.length === 0);
  assert.deepEqual(all.flags, { volatile: true, compress: false });
});

test("binary broadcasts carry their attachments; other namespaces their name", async (t) => {
  const { busd, io } = await setUp(t);
  const chat = io.of("/chat");
  const s = chat.connect("S");
  chat.emit(["bin", { data: Buffer.from([0, 1, 2, 0xfe, 0xff]) }], { rooms: ["S"] });
  assert.deepEqual(s.written, ['51-/chat,["bin",{"data":{"_placeholder":true,"num":0}}]', Buffer.from([0, 1, 2, 0xfe, 0xff])]);
  const frame = await busd.next((f) => f.type === "BROADCAST");
  assert.equal(frame.namespace, "/chat");
  assert.equal(frame.packet.toString(), '51-/chat,["bin",{"data":{"_placeholder":true,"num":0}}]');
  assert.deepEqual(frame.attachments, [Buffer.from([0, 1, 2, 0xfe, 0xff])]);
});

test("flags.local broadcasts stay on this node", async (t) => {
  const { busd, nsp, Adapter } = await setUp(t);
  const a = nsp.connect("A");
  nsp.emit(["local"], { flags: { local: true } });
  nsp.emit(["marker"]);
  await busd.next((f) => f.type === "BROADCAST");
  assert.deepEqual(a.written, ['2["local"]', '2["marker"]']);
  assert.deepEqual(busd.frames("BROADCAST").map((f) => f.packet.toString()), ['2["marker"]']);
  assert.equal(Adapter.stats().broadcastsSent, 1);
});

test("DELIVER: the packet and attachments are written as they came, once per target", async (t) => {
  const { busd, nsp, io, Adapter } = await setUp(t);
  const a = nsp.connect("A");
  const b = nsp.connect("B");
  const other = io.of("/other").connect("O");
  // Not valid JSON on purpose: the connector must not look inside.
  busd.send({ type: "DELIVER", ackId: 0, flags: { volatile: true, compress: false }, namespace: "/", socketIds: ["A", "gone", "B"], packet: "42not json é", attachments: [Buffer.from([1, 2]), Buffer.alloc(0)] });
  busd.send({ type: "DELIVER", ackId: 0, flags: {}, namespace: "/nowhere", socketIds: ["A"], packet: "2[]", attachments: [] });
  await waitFor(() => b.client.writes.length === 1);
  for (const socket of [a, b]) {
    assert.deepEqual(socket.client.writes, [{ packets: ["42not json é", Buffer.from([1, 2]), Buffer.alloc(0)], opts: { preEncoded: true, volatile: true, compress: false } }]);
    assert.equal(socket.acks.size, 0);
  }
  assert.deepEqual(other.written, []);
  await waitFor(() => Adapter.stats().unknownNamespaces === 1);
  const stats = Adapter.stats();
  assert.equal(stats.deliveries, 1);
  assert.equal(stats.packetsWritten, 2);
  assert.equal(stats.missingSockets, 1);
});

test("DELIVER with an ack id: registered per socket; the client's ack becomes ACKED", async (t) => {
  const { busd, nsp, Adapter } = await setUp(t);
  const a = nsp.connect("A");
  const b = nsp.connect("B");
  const ackId = 2 ** 52 + 7;
  busd.send({ type: "DELIVER", ackId, flags: {}, namespace: "/", socketIds: ["A", "B"], packet: `2${ackId}["news",1]`, attachments: [] });
  await waitFor(() => a.acks.has(ackId) && b.acks.has(ackId));
  assert.equal(a.written[0], `2${ackId}["news",1]`);

  assert.ok(a.clientAck(ackId, ["ok", { n: 1 }]));
  assert.equal(a.clientAck(ackId, ["again"]), false, "socket.io removes an answered ack");
  const acked = await busd.next((f) => f.type === "ACKED");
  assert.deepEqual(acked, { type: "ACKED", ackId, socketId: "A", status: 1, arguments: ["ok", { n: 1 }] });

  assert.ok(b.clientAck(ackId, []));
  const second = await busd.next((f) => f.type === "ACKED" && f.socketId === "B");
  assert.deepEqual(second.arguments, []);
  assert.equal(Adapter.stats().acksConfirmed, 2);
  assert.equal(Adapter.stats().pendingAcks, 0);
});

test("unanswered ack ids are dropped after WELCOME's time-out (reported when asked)", async (t) => {
  const { busd, nsp, Adapter } = await setUp(t, { welcome: { ackTimeoutMs: 50 }, options: { reportAckTimeouts: true } });
  const a = nsp.connect("A");
  busd.send({ type: "DELIVER", ackId: 2 ** 52 + 1, flags: {}, namespace: "/", socketIds: ["A"], packet: "2[]", attachments: [] });
  await waitFor(() => a.acks.size === 1);
  const timeout = await busd.next((f) => f.type === "ACKED", { timeout: 3000 });
  assert.deepEqual(timeout, { type: "ACKED", ackId: 2 ** 52 + 1, socketId: "A", status: 2, arguments: [] });
  assert.equal(a.acks.size, 0);
  assert.equal(a.clientAck(2 ** 52 + 1, ["late"]), false);
  assert.equal(Adapter.stats().acksExpired, 1);
});

test("a socket that goes away takes its pending ack ids with it", async (t) => {
  const { busd, nsp, Adapter } = await setUp(t);
  const a = nsp.connect("A");
  busd.send({ type: "DELIVER", ackId: 2 ** 52 + 3, flags: {}, namespace: "/", socketIds: ["A"], packet: "2[]", attachments: [] });
  await waitFor(() => a.acks.size === 1);
  assert.equal(Adapter.stats().pendingAcks, 1);
  a.disconnect();
  assert.equal(Adapter.stats().pendingAcks, 0);
});

test("pending ack ids are dropped when the session with busd ends", async (t) => {
  const { busd, nsp, Adapter } = await setUp(t);
  const a = nsp.connect("A");
  a.acks.set(0, () => {}); // socket.io's own ack: not ours to drop
  busd.send({ type: "DELIVER", ackId: 2 ** 52 + 5, flags: {}, namespace: "/", socketIds: ["A"], packet: "2[]", attachments: [] });
  await waitFor(() => a.acks.size === 2);
  busd.dropConnection();
  await waitFor(() => !Adapter.bus.connected);
  assert.deepEqual([...a.acks.keys()], [0]);
  assert.equal(Adapter.stats().pendingAcks, 0);
});

test("SOCKETS_JOIN / SOCKETS_LEAVE / SOCKETS_DISCONNECT act on the named local sockets", async (t) => {
  const { busd, nsp } = await setUp(t);
  const a = nsp.connect("A");
  const b = nsp.connect("B");
  const c = nsp.connect("C");
  busd.send({ type: "SOCKETS_JOIN", namespace: "/", socketIds: ["A", "B", "unknown"], rooms: ["x", "y"] });
  await waitFor(() => b.rooms.has("y"));
  assert.deepEqual([...a.rooms], ["A", "x", "y"]);
  const join = await busd.next((f) => f.type === "SOCKET_JOIN" && f.socketId === "B" && f.rooms.includes("x"));
  assert.deepEqual(join.rooms, ["x", "y"], "busd hears about the joins it asked for");

  busd.send({ type: "SOCKETS_LEAVE", namespace: "/", socketIds: ["A"], rooms: ["x", "y"] });
  await waitFor(() => !a.rooms.has("y"));
  assert.deepEqual([...a.rooms], ["A"]);

  busd.send({ type: "SOCKETS_DISCONNECT", namespace: "/", socketIds: ["A"], close: false });
  busd.send({ type: "SOCKETS_DISCONNECT", namespace: "/", socketIds: ["C"], close: true });
  await waitFor(() => !a.connected && !c.connected);
  assert.equal(a.client.closed, false);
  assert.equal(c.client.closed, true);
  assert.equal(b.connected, true);
  const gone = await busd.next((f) => f.type === "SOCKET_DISCONNECT" && f.socketId === "C");
  assert.equal(gone.reason, "server namespace disconnect");
});

test("SERVER_SIDE_EMIT reaches nsp._onServerSideEmit; bad JSON is counted and ignored", async (t) => {
  const { busd, nsp, io, Adapter } = await setUp(t);
  const chat = io.of("/chat");
  busd.send({ type: "SERVER_SIDE_EMIT", namespace: "/", data: '["hello",{"from":"emitter"},2]' });
  busd.send({ type: "SERVER_SIDE_EMIT", namespace: "/", data: "{not json" });
  busd.send({ type: "SERVER_SIDE_EMIT", namespace: "/", data: "[1]" });
  busd.send({ type: "SERVER_SIDE_EMIT", namespace: "/chat", data: '["hello","chat-ns"]' });
  await waitFor(() => chat.serverSideEmits.length === 1);
  assert.deepEqual(nsp.serverSideEmits, [["hello", { from: "emitter" }, 2]]);
  assert.deepEqual(chat.serverSideEmits, [["hello", "chat-ns"]]);
  assert.equal(Adapter.stats().serverSideEmitsRejected, 2);
});

test("after busd comes back, every local socket and its rooms are sent again", async (t) => {
  const { busd, nsp, io, Adapter } = await setUp(t);
  const a = nsp.connect("A");
  a.join(["r1", "r2"]);
  const z = io.of("/chat").connect("Z");
  await waitFor(() => busd.frames("SOCKET_CONNECT").length === 2);
  const connectedAt = busd.frames("SOCKET_CONNECT")[0].connectedAt;
  busd.dropConnection();
  await waitFor(() => !Adapter.bus.connected);
  // Changes while busd is away are not sent: the resync carries the result.
  a.leave("r1");
  z.join("zz");
  nsp.connect("B").disconnect();
  const mark = busd.received.length;
  await busd.waitForSession(2);
  await waitFor(() => busd.received.length >= mark + 5);
  assert.deepEqual(summary(busd, mark), [
    ["SOCKET_CONNECT", "/", "A"],
    ["SOCKET_JOIN", "/", "A", ["A", "r2"]],
    ["SOCKET_CONNECT", "/chat", "Z"],
    ["SOCKET_JOIN", "/chat", "Z", ["Z", "zz"]],
  ]);
  assert.equal(busd.received.slice(mark).find((f) => f.type === "SOCKET_CONNECT").connectedAt, connectedAt);
});

test("the rest of the adapter interface", async (t) => {
  const { busd, nsp, adapter } = await setUp(t);
  const a = nsp.connect("A");
  const b = nsp.connect("B");
  a.join("r");
  assert.equal(await adapter.serverCount(), 1);
  assert.deepEqual([...(await adapter.sockets(new Set(["r"])))], ["A"]);
  assert.deepEqual([...(await adapter.sockets(new Set()))], ["A", "B"]);
  assert.deepEqual((await adapter.fetchSockets({ rooms: new Set(), except: new Set(["r"]) })).map((s) => s.id), ["B"]);

  adapter.addSockets({ rooms: new Set(["B"]) }, ["q1", "q2"]);
  assert.deepEqual([...b.rooms], ["B", "q1", "q2"]);
  adapter.delSockets({ rooms: new Set() }, ["q1"]);
  assert.deepEqual([...b.rooms], ["B", "q2"]);

  // broadcastWithAck: local sockets only, with socket.io's per-namespace ids.
  const responses = [];
  let count;
  adapter.broadcastWithAck({ type: 2, data: ["ask"] }, { rooms: new Set(), except: new Set() }, (n) => (count = n), (r) => responses.push(r));
  assert.equal(count, 2);
  assert.equal(a.written.at(-1), '20["ask"]');
  a.clientAck(0, ["yes"]);
  assert.deepEqual(responses, ["yes"]);

  let ackError;
  adapter.serverSideEmit(["ev", 1, (err) => (ackError = err)]);
  assert.match(ackError.message, /not supported/);

  assert.equal(adapter.persistSession({ sid: "A", pid: "p", rooms: [], data: {} }), undefined);
  assert.equal(adapter.restoreSession("p", "o"), null);

  adapter.disconnectSockets({ rooms: new Set(["r"]) }, false);
  assert.equal(a.connected, false);
  assert.equal(b.connected, true);
  await busd.next((f) => f.type === "SOCKET_DISCONNECT" && f.socketId === "A");
  assert.equal(busd.frames("BROADCAST").length, 0, "acked broadcasts are not forwarded");
});

test("one connection for all namespaces; closed with the last adapter", async (t) => {
  const { busd, io, Adapter } = await setUp(t);
  io.of("/a");
  io.of("/b");
  await sleep(50);
  assert.equal(busd.hellos, 1);
  assert.deepEqual(Adapter.stats().namespaces, ["/", "/a", "/b"]);
  await io.close();
  assert.equal(Adapter.bus.state, "closed");
});

test("an exception in socket code does not end the session", async (t) => {
  const { busd, nsp, Adapter } = await setUp(t);
  const a = nsp.connect("A");
  a.join = () => {
    throw new Error("user code");
  };
  busd.send({ type: "SOCKETS_JOIN", namespace: "/", socketIds: ["A"], rooms: ["x"] });
  busd.send({ type: "PING", token: 1n });
  await busd.next((f) => f.type === "PONG");
  assert.equal(Adapter.bus.connected, true);
  assert.equal(Adapter.stats().handlerErrors, 1);
});
