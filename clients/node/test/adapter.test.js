"use strict";
// The adapter inside a real socket.io 4.8.1 server with real clients, against
// a fake busd speaking protocol v2: what the node tells busd, and what it
// does with busd's deliveries, APPLYs and QUESTIONs.
const test = require("node:test");
const assert = require("node:assert/strict");
const { startNode } = require("../test-support/real-io");
const { skipReason } = require("../test-support/stock");
const { waitFor, sleep } = require("../test-support/wait");

const skip = skipReason || false;

/** Frames received after `mark`, as [type, ...interesting fields]. */
function summary(busd, mark = 0) {
  return busd.received.slice(mark).filter((f) => f.type !== "HELLO").map((frame) => {
    switch (frame.type) {
      case "NAMESPACE": return [frame.type, frame.namespace];
      case "SOCKET_CONNECT": return [frame.type, frame.namespace, frame.socketId];
      case "SOCKET_DISCONNECT": return [frame.type, frame.namespace, frame.socketId, frame.reason];
      case "ROOMS_JOIN": case "ROOMS_LEAVE": case "SOCKET_JOIN": case "SOCKET_LEAVE": return [frame.type, frame.namespace, frame.socketId, frame.rooms];
      default: return [frame.type];
    }
  });
}

test("NAMESPACE first, then connects, typed joins, leaves and disconnects", { skip }, async (t) => {
  const { busd, connect, io, nsp } = await startNode(t);
  io.of("/chat");
  const a = await connect("/");
  a.socket.join(["r1", 123]);
  a.socket.join("r1"); // already in: nothing new to tell
  a.socket.leave(123);
  a.socket.leave("never-joined");
  a.client.disconnect();
  await waitFor(() => busd.frames("SOCKET_DISCONNECT").length === 1);
  assert.deepEqual(summary(busd), [
    ["NAMESPACE", "/"],
    ["NAMESPACE", "/chat"],
    ["SOCKET_CONNECT", "/", a.id],
    ["ROOMS_JOIN", "/", a.id, [a.id]],
    ["ROOMS_JOIN", "/", a.id, ["r1", 123]],
    ["ROOMS_LEAVE", "/", a.id, [123]],
    ["SOCKET_DISCONNECT", "/", a.id, "client namespace disconnect"],
  ]);
  assert.equal(nsp.adapter.sids.size, 0);
  assert.equal(nsp.adapter.rooms.size, 0);
});

test("node broadcasts: delivered locally by the adapter's rooms, sent once as ROOMS_BROADCAST with typed rooms", { skip }, async (t) => {
  const { busd, connect, io } = await startNode(t);
  const a = await connect();
  const b = await connect();
  const c = await connect();
  a.socket.join(["roomA", 123]);
  b.socket.join(123);
  c.socket.join("roomC");
  io.to(123).except(["roomC", a.id]).emit("news", 1);
  io.to("123").emit("string-room"); // not the numeric room
  await waitFor(() => b.received.length === 1);
  await sleep(50);
  assert.deepEqual([a.received, b.received, c.received], [[], [["news", 1]], []]);
  const frames = busd.frames("ROOMS_BROADCAST");
  assert.equal(frames.length, 2);
  assert.deepEqual({ ...frames[0], packet: frames[0].packet.toString() }, {
    type: "ROOMS_BROADCAST", namespace: "/", flags: { volatile: false, compress: undefined },
    rooms: [123], except: ["roomC", a.id], packet: '2["news",1]', attachments: [],
  });
  assert.deepEqual(frames[1].rooms, ["123"]);

  io.volatile.compress(false).emit("all");
  const all = await busd.next((f) => f.type === "ROOMS_BROADCAST" && f.rooms.length === 0);
  assert.deepEqual(all.flags, { volatile: true, compress: false });
  await waitFor(() => c.received.length === 1);
  assert.deepEqual(c.received, [["all"]]);
});

test("binary broadcasts carry their attachments; io.local stays on this node", { skip }, async (t) => {
  const { busd, connect, io } = await startNode(t);
  io.of("/chat");
  const chat = await connect("/chat");
  io.of("/chat").to(chat.id).emit("bin", { data: Buffer.from([0, 1, 2, 0xfe, 0xff]) });
  io.of("/chat").local.emit("local-only");
  const frame = await busd.next((f) => f.type === "ROOMS_BROADCAST");
  assert.equal(frame.namespace, "/chat");
  assert.equal(frame.packet.toString(), '51-/chat,["bin",{"data":{"_placeholder":true,"num":0}}]');
  assert.deepEqual(frame.attachments, [Buffer.from([0, 1, 2, 0xfe, 0xff])]);
  await waitFor(() => chat.received.length === 2);
  assert.deepEqual(Buffer.from(chat.received[0][1].data), Buffer.from([0, 1, 2, 0xfe, 0xff]));
  assert.deepEqual(chat.received[1], ["local-only"]);
  assert.equal(busd.frames("ROOMS_BROADCAST").length, 1);
});

test("DELIVER_TO_ROOMS: the node's own rooms at that moment pick the sockets (rooms, except, numeric rooms)", { skip }, async (t) => {
  const { busd, connect } = await startNode(t);
  const a = await connect();
  const b = await connect();
  const c = await connect();
  a.socket.join("room1");
  b.socket.join(["room1", "vip"]);
  c.socket.join(42);
  const deliver = (rooms, except, packet) =>
    busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms, except, packet, attachments: [] });
  deliver(["room1"], ["vip"], '2["one"]');
  deliver([42], [], '2["numeric"]');
  deliver(["42"], [], '2["string42"]');
  deliver([], [a.id], '2["all-but-a"]');
  deliver(["nobody"], [], '2["none"]');
  await waitFor(() => b.received.length === 1 && c.received.length === 2);
  await sleep(50);
  assert.deepEqual(a.received, [["one"]]);
  assert.deepEqual(b.received, [["all-but-a"]]);
  assert.deepEqual(c.received, [["numeric"], ["all-but-a"]]);
  assert.equal(busd.frames("DELIVERED").length, 0, "no DELIVERED without an ack id");
});

test("join, then a delivery to that room (and to all except it): 200 tries, no miss, no excepted delivery", { skip }, async (t) => {
  const { busd, connect } = await startNode(t);
  const a = await connect();
  for (let i = 0; i < 200; i++) {
    a.socket.join(`r${i}`);
    busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: [`r${i}`], except: [], packet: `2["in",${i}]`, attachments: [] });
    busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: [], except: [`r${i}`], packet: `2["out",${i}]`, attachments: [] });
  }
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: [], except: [], packet: '2["end"]', attachments: [] });
  await waitFor(() => a.received.some(([event]) => event === "end"), { timeout: 10000 });
  assert.equal(a.received.filter(([event]) => event === "in").length, 200);
  assert.equal(a.received.filter(([event]) => event === "out").length, 0);
});

test("DELIVER_TO_ROOMS with an ack id: registered per target, DELIVERED names them, a client's ack becomes ACKED", { skip }, async (t) => {
  const { busd, connect, Adapter } = await startNode(t);
  const a = await connect();
  const b = await connect();
  a.socket.join("room1");
  b.socket.join("room1");
  a.client.on("ask", (n, cb) => cb("ok", n));
  b.client.on("ask", () => {}); // never answers
  const ackId = 2 ** 52 + 7;
  busd.send({ type: "DELIVER_TO_ROOMS", ackId, flags: {}, namespace: "/", rooms: ["room1"], except: [], packet: `2${ackId}["ask",1]`, attachments: [] });
  const delivered = await busd.next((f) => f.type === "DELIVERED");
  assert.deepEqual({ ...delivered, socketIds: [...delivered.socketIds].sort() }, { type: "DELIVERED", ackId, namespace: "/", socketIds: [a.id, b.id].sort() });
  const acked = await busd.next((f) => f.type === "ACKED");
  assert.deepEqual(acked, { type: "ACKED", ackId, socketId: a.id, status: 1, arguments: ["ok", 1] });
  assert.equal(Adapter.stats().pendingAcks, 1);

  busd.send({ type: "DELIVER_TO_ROOMS", ackId: ackId + 1, flags: {}, namespace: "/", rooms: ["nobody"], except: [], packet: `2${ackId + 1}["ask",2]`, attachments: [] });
  const none = await busd.next((f) => f.type === "DELIVERED" && f.ackId === ackId + 1);
  assert.deepEqual(none.socketIds, [], "a DELIVERED even when no socket was written to");
});

test("v1's DELIVER still works on a v2 session (busd-chosen sockets)", { skip }, async (t) => {
  const { busd, connect } = await startNode(t);
  const a = await connect();
  busd.send({ type: "DELIVER", ackId: 0, flags: {}, namespace: "/", socketIds: [a.id, "gone"], packet: '2["v1"]', attachments: [] });
  await waitFor(() => a.received.length === 1);
  assert.deepEqual(a.received, [["v1"]]);
});

test("APPLY: join, leave and disconnect by the node's own rooms", { skip }, async (t) => {
  const { busd, connect } = await startNode(t);
  const a = await connect();
  const b = await connect();
  const c = await connect();
  a.socket.join("room1");
  b.socket.join(["room1", "vip"]);
  busd.send({ type: "APPLY", op: 1, namespace: "/", rooms: ["room1"], except: ["vip"], targets: ["joined", 7], close: false });
  await waitFor(() => a.socket.rooms.has(7));
  assert.deepEqual([...a.socket.rooms], [a.id, "room1", "joined", 7]);
  assert.equal(b.socket.rooms.has("joined"), false);
  const join = await busd.next((f) => f.type === "ROOMS_JOIN" && f.rooms.includes(7));
  assert.deepEqual(join.rooms, ["joined", 7], "busd hears of the joins it asked for");

  busd.send({ type: "APPLY", op: 2, namespace: "/", rooms: [], except: [], targets: ["room1"], close: false });
  await waitFor(() => !b.socket.rooms.has("room1"));
  assert.equal(a.socket.rooms.has("room1"), false);

  const gone = new Promise((resolve) => c.client.once("disconnect", resolve));
  busd.send({ type: "APPLY", op: 3, namespace: "/", rooms: [c.id], except: [], targets: [], close: true });
  assert.equal(await gone, "io server disconnect");
  assert.equal(a.client.connected && b.client.connected, true);
});

test("SOCKETS_JOIN / SOCKETS_LEAVE / SOCKETS_DISCONNECT (v1 frames) act on the named sockets", { skip }, async (t) => {
  const { busd, connect } = await startNode(t);
  const a = await connect();
  busd.send({ type: "SOCKETS_JOIN", namespace: "/", socketIds: [a.id, "unknown"], rooms: ["x", "y"] });
  await waitFor(() => a.socket.rooms.has("y"));
  busd.send({ type: "SOCKETS_LEAVE", namespace: "/", socketIds: [a.id], rooms: ["x"] });
  await waitFor(() => !a.socket.rooms.has("x"));
  const gone = new Promise((resolve) => a.client.once("disconnect", resolve));
  busd.send({ type: "SOCKETS_DISCONNECT", namespace: "/", socketIds: [a.id], close: false });
  assert.equal(await gone, "io server disconnect");
});

test("QUESTION FETCH: the sockets as the stock adapter serialises them", { skip }, async (t) => {
  const { busd, connect, io } = await startNode(t);
  io.use((socket, next) => {
    socket.data = { user: "ann", n: 1 };
    next();
  });
  const a = await connect("/", { auth: { token: "t1" }, query: { q: "1" } });
  const b = await connect();
  a.socket.join(["room1", 5]);
  busd.send({ type: "QUESTION", request: 11, kind: 1, namespace: "/", body: { rooms: ["room1"], except: [] } });
  const answer = await busd.next((f) => f.type === "ANSWER" && f.request === 11);
  assert.equal(answer.status, 0);
  assert.equal(answer.body.length, 1);
  const [fetched] = answer.body;
  assert.deepEqual(Object.keys(fetched), ["id", "handshake", "rooms", "data"]);
  assert.equal(fetched.id, a.id);
  assert.deepEqual(fetched.rooms, [a.id, "room1", 5]);
  assert.deepEqual(fetched.data, { user: "ann", n: 1 });
  // What JSON makes of the handshake the stock adapter sends (sessionStore left out).
  const { sessionStore, ...handshake } = a.socket.handshake;
  assert.deepEqual(fetched.handshake, JSON.parse(JSON.stringify(handshake)));
  assert.deepEqual(fetched.handshake.auth, { token: "t1" });
  assert.equal(fetched.handshake.query.q, "1");

  busd.send({ type: "QUESTION", request: 12, kind: 1, namespace: "/", body: { rooms: [], except: [5] } });
  const all = await busd.next((f) => f.type === "ANSWER" && f.request === 12);
  assert.deepEqual(all.body.map((s) => s.id), [b.id]);
});

test("QUESTION SERVER_SIDE_EMIT: handlers get an ack function, its first call answers", { skip }, async (t) => {
  const { busd, nsp } = await startNode(t);
  nsp.on("ping", (n, cb) => {
    cb(`pong ${n}`);
    cb("again"); // only the first call answers
  });
  nsp.on("silent", (cb) => cb());
  busd.send({ type: "QUESTION", request: 21, kind: 2, namespace: "/", body: ["ping", 7] });
  busd.send({ type: "QUESTION", request: 22, kind: 2, namespace: "/", body: ["silent"] });
  busd.send({ type: "QUESTION", request: 23, kind: 2, namespace: "/", body: ["nobody-listens"] });
  busd.send({ type: "QUESTION", request: 24, kind: 9, namespace: "/", body: undefined });
  busd.send({ type: "QUESTION", request: 25, kind: 1, namespace: "/nowhere", body: { rooms: [], except: [] } });
  await waitFor(() => busd.frames("ANSWER").length === 5);
  await sleep(50);
  const answers = busd.frames("ANSWER").map((f) => [f.request, f.status, f.body]);
  assert.deepEqual(answers.sort((x, y) => x[0] - y[0]), [
    [21, 0, ["pong 7"]],
    [22, 0, []],
    [23, 1, undefined],
    [24, 1, undefined],
    [25, 1, undefined],
  ]);
});

test("QUESTION CUSTOM: the customHook option answers; without one the node cannot answer", { skip }, async (t) => {
  const { busd } = await startNode(t, { options: { customHook: (data, cb) => cb({ echoed: data }) } });
  busd.send({ type: "QUESTION", request: 31, kind: 3, namespace: "/", body: { ask: 1 } });
  const answer = await busd.next((f) => f.type === "ANSWER" && f.request === 31);
  assert.deepEqual([answer.status, answer.body], [0, { echoed: { ask: 1 } }]);
});

test("SERVER_SIDE_EMIT (no ack) reaches the namespace's handlers; bad JSON is counted and ignored", { skip }, async (t) => {
  const { busd, io, Adapter } = await startNode(t);
  const seen = [];
  io.on("hello", (...args) => seen.push(["/", ...args]));
  io.of("/chat").on("hello", (...args) => seen.push(["/chat", ...args]));
  busd.send({ type: "SERVER_SIDE_EMIT", namespace: "/", data: '["hello",{"from":"emitter"},2]' });
  busd.send({ type: "SERVER_SIDE_EMIT", namespace: "/", data: "{not json" });
  busd.send({ type: "SERVER_SIDE_EMIT", namespace: "/chat", data: '["hello","chat-ns"]' });
  await waitFor(() => seen.length === 2);
  assert.deepEqual(seen, [["/", { from: "emitter" }, 2], ["/chat", "chat-ns"]]);
  assert.equal(Adapter.stats().serverSideEmitsRejected, 1);
});

test("after busd comes back: every NAMESPACE, then every socket and its rooms", { skip }, async (t) => {
  const { busd, connect, Adapter, io } = await startNode(t);
  io.of("/chat");
  const a = await connect();
  a.socket.join(["r1", 2]);
  const z = await connect("/chat");
  await waitFor(() => busd.frames("SOCKET_CONNECT").length === 2);
  const connectedAt = busd.frames("SOCKET_CONNECT")[0].connectedAt;
  busd.dropConnection();
  await waitFor(() => !Adapter.bus.connected);
  a.socket.leave("r1");
  z.socket.join("zz");
  const mark = busd.received.length;
  await busd.waitForSession(2);
  await waitFor(() => busd.received.length >= mark + 7);
  assert.deepEqual(summary(busd, mark), [
    ["NAMESPACE", "/"],
    ["NAMESPACE", "/chat"],
    ["SOCKET_CONNECT", "/", a.id],
    ["ROOMS_JOIN", "/", a.id, [a.id, 2]],
    ["SOCKET_CONNECT", "/chat", z.id],
    ["ROOMS_JOIN", "/chat", z.id, [z.id, "zz"]],
  ]);
  assert.equal(busd.received.slice(mark).find((f) => f.type === "SOCKET_CONNECT").connectedAt, connectedAt);
});

test("an exception in the application's handler does not end the session", { skip }, async (t) => {
  const { busd, nsp, Adapter } = await startNode(t);
  nsp.on("boom", () => {
    throw new Error("user code");
  });
  busd.send({ type: "SERVER_SIDE_EMIT", namespace: "/", data: '["boom"]' });
  busd.send({ type: "PING", token: 1n });
  await busd.next((f) => f.type === "PONG");
  assert.equal(Adapter.bus.connected, true);
  assert.equal(Adapter.stats().handlerErrors, 1);
});

test("keeps rooms and sids like socket.io-adapter, with its events", { skip }, async (t) => {
  const { connect, adapter } = await startNode(t);
  const events = [];
  for (const name of ["create-room", "delete-room", "join-room", "leave-room"]) adapter.on(name, (...args) => events.push([name, ...args]));
  const a = await connect();
  a.socket.join("room");
  const b = await connect();
  b.socket.join("room");
  assert.deepEqual([...adapter.rooms.get("room")], [a.id, b.id]);
  a.socket.leave("room");
  b.socket.disconnect();
  await waitFor(() => !adapter.rooms.has("room"));
  assert.deepEqual(events, [
    ["create-room", a.id], ["join-room", a.id, a.id], ["create-room", "room"], ["join-room", "room", a.id],
    ["create-room", b.id], ["join-room", b.id, b.id], ["join-room", "room", b.id],
    ["leave-room", "room", a.id],
    ["leave-room", b.id, b.id], ["delete-room", b.id], ["leave-room", "room", b.id], ["delete-room", "room"],
  ]);
});

test("unanswered ack ids are dropped after WELCOME's time-out (reported when asked)", { skip }, async (t) => {
  const { busd, connect, Adapter } = await startNode(t, { welcome: { ackTimeoutMs: 50 }, options: { reportAckTimeouts: true } });
  const a = await connect();
  a.client.on("ask", () => {}); // never answers
  const ackId = 2 ** 52 + 1;
  busd.send({ type: "DELIVER_TO_ROOMS", ackId, flags: {}, namespace: "/", rooms: [a.id], except: [], packet: `2${ackId}["ask"]`, attachments: [] });
  const timeout = await busd.next((f) => f.type === "ACKED", { timeout: 3000 });
  assert.deepEqual(timeout, { type: "ACKED", ackId, socketId: a.id, status: 2, arguments: [] });
  assert.equal(a.socket.acks.has(ackId), false);
  assert.equal(Adapter.stats().acksExpired, 1);
});

test("a socket that goes away, or the end of the session, takes the pending ack ids with it", { skip }, async (t) => {
  const { busd, connect, Adapter } = await startNode(t);
  const a = await connect();
  const b = await connect();
  for (const [socket, ackId] of [[a, 2 ** 52 + 3], [b, 2 ** 52 + 4]]) {
    busd.send({ type: "DELIVER_TO_ROOMS", ackId, flags: {}, namespace: "/", rooms: [socket.id], except: [], packet: `2${ackId}["ask"]`, attachments: [] });
  }
  await waitFor(() => Adapter.stats().pendingAcks === 2);
  a.socket.disconnect();
  assert.equal(Adapter.stats().pendingAcks, 1);
  b.socket.acks.set(0, () => {}); // socket.io's own ack: not ours to drop
  busd.dropConnection();
  await waitFor(() => !Adapter.bus.connected);
  assert.deepEqual([...b.socket.acks.keys()], [0]);
  assert.equal(Adapter.stats().pendingAcks, 0);
});

test("a delivery with an ack id to a namespace this node does not serve: an empty DELIVERED", { skip }, async (t) => {
  const { busd } = await startNode(t);
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 2 ** 52 + 9, flags: {}, namespace: "/nowhere", rooms: [], except: [], packet: "2[]", attachments: [] });
  const delivered = await busd.next((f) => f.type === "DELIVERED");
  assert.deepEqual(delivered, { type: "DELIVERED", ackId: 2 ** 52 + 9, namespace: "/nowhere", socketIds: [] });
});

test("one connection for all namespaces; closed with the last adapter", { skip }, async (t) => {
  const { busd, io, Adapter } = await startNode(t);
  io.of("/a");
  io.of("/b");
  await sleep(50);
  assert.equal(busd.hellos, 1);
  assert.deepEqual(Adapter.stats().namespaces, ["/", "/a", "/b"]);
  await new Promise((resolve) => io.close(() => resolve()));
  assert.equal(Adapter.bus.state, "closed");
});

test("a broadcast too big for the protocol throws a RangeError after the local delivery; the link stays", { skip }, async (t) => {
  const { io, connect, Adapter } = await startNode(t);
  const a = await connect();
  const framesOut = Adapter.bus.counters.framesOut;
  assert.throws(() => io.to("r".repeat(70000)).emit("x"), RangeError);
  assert.equal(Adapter.bus.counters.framesOut, framesOut);
  io.emit("after");
  await waitFor(() => a.received.length === 1);
  assert.equal(Adapter.bus.connected, true);
});

test("socket.onAnyOutgoing sees busd's deliveries, decoded", { skip }, async (t) => {
  const { busd, connect } = await startNode(t);
  const a = await connect();
  const outgoing = [];
  a.socket.onAnyOutgoing((...args) => outgoing.push(args));
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: [], except: [], packet: '2["seen",{"n":1}]', attachments: [] });
  await waitFor(() => a.received.length === 1);
  assert.deepEqual(outgoing, [["seen", { n: 1 }]]);
});

test("an answer JSON cannot carry is sent as 'cannot answer', and the session goes on", { skip }, async (t) => {
  const { busd, connect, nsp, Adapter } = await startNode(t);
  const a = await connect();
  const circular = {};
  circular.self = circular;
  a.socket.data = circular;
  nsp.on("big", (cb) => cb(10n));
  busd.send({ type: "QUESTION", request: 41, kind: 1, namespace: "/", body: { rooms: [], except: [] } });
  busd.send({ type: "QUESTION", request: 42, kind: 2, namespace: "/", body: ["big"] });
  await waitFor(() => busd.frames("ANSWER").length === 2);
  assert.deepEqual(busd.frames("ANSWER").map((f) => [f.request, f.status]), [[41, 1], [42, 1]]);
  assert.equal(Adapter.stats().answersUnsendable, 2);
  assert.equal(Adapter.bus.connected, true);
});
