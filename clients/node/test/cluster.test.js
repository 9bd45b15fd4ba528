"use strict";
// The adapter API's cluster calls in a real socket.io 4.8.1 server, through a
// fake busd speaking protocol v2: the requests the node sends, and the
// results, partial results and errors the application gets, compared with
// what @socket.io/redis-adapter 8.3.0 gives.
const test = require("node:test");
const assert = require("node:assert/strict");
const { startNode } = require("../test-support/real-io");
const { skipReason } = require("../test-support/stock");
const { waitFor, sleep } = require("../test-support/wait");

const skip = skipReason || false;

/** Answers the next CLUSTER_REQUEST of `kind` with `reply(frame)` = { status, body } (or nothing). */
async function answerNext(busd, kind, reply, from = 0) {
  const frame = await busd.next((f) => f.type === "CLUSTER_REQUEST" && f.kind === kind, { from });
  const answer = reply(frame);
  if (answer) busd.send({ type: "CLUSTER_REPLY", request: frame.request, ...answer });
  return frame;
}

test("serverCount(): busd's NUMSUB count", { skip }, async (t) => {
  const { busd, io } = await startNode(t);
  const count = io.of("/").adapter.serverCount();
  const frame = await answerNext(busd, 1, () => ({ status: 0, body: { count: 3 } }));
  assert.equal(await count, 3);
  assert.deepEqual({ ...frame, request: 0 }, { type: "CLUSTER_REQUEST", request: 0, kind: 1, namespace: "/", timeoutMs: 5000, body: undefined });
});

test("serverCount(): without a count from busd it resolves 1 (socket.io calls it without a catch), counted, logged once", { skip }, async (t) => {
  const { busd, io, logger } = await startNode(t);
  const adapter = io.of("/").adapter;
  for (const reply of [{ status: 2, body: { error: "Redis unreachable" } }, { status: 1, body: undefined }, { status: 0, body: {} }]) {
    const count = adapter.serverCount();
    await answerNext(busd, 1, () => reply, busd.received.length);
    assert.equal(await count, 1);
  }
  assert.equal(adapter.hub.counters.serverCountsMissed, 3);
  assert.equal(logger.lines.filter((line) => line.includes("serverCount(): busd gave no count")).length, 1);
});

test("fetchSockets(): local Socket objects, then other servers' as RemoteSocket; flags.local asks nobody", { skip }, async (t) => {
  const { busd, io, connect } = await startNode(t);
  const a = await connect();
  const b = await connect();
  a.socket.join("room1");
  b.socket.join(["room1", "vip"]);
  a.socket.data = { mine: true };
  const remote = { id: "remoteSid", handshake: { auth: { x: 1 }, query: {} }, rooms: ["remoteSid", "room1", 4], data: { user: "bob" } };
  const fetching = io.in("room1").except("vip").fetchSockets();
  const frame = await answerNext(busd, 2, () => ({ status: 0, body: { sockets: [remote] } }));
  assert.deepEqual(frame.body, { rooms: ["room1"], except: ["vip"] });
  assert.equal(frame.timeoutMs, 5000);
  const sockets = await fetching;
  assert.equal(sockets.length, 2);
  assert.equal(sockets[0], a.socket, "the local socket itself");
  assert.equal(sockets[1].constructor.name, "RemoteSocket", "socket.io wraps the other servers' sockets");
  assert.deepEqual([sockets[1].id, sockets[1].handshake, [...sockets[1].rooms], sockets[1].data], [remote.id, remote.handshake, remote.rooms, remote.data]);

  const requests = busd.frames("CLUSTER_REQUEST").length;
  const local = await io.local.fetchSockets();
  assert.deepEqual(local.map((s) => s.id).sort(), [a.id, b.id].sort());
  assert.equal(busd.frames("CLUSTER_REQUEST").length, requests, "io.local.fetchSockets() asks nobody");
});

test("fetchSockets(): time-out and failure give the stock adapter's errors", { skip }, async (t) => {
  const { busd, io } = await startNode(t);
  const timingOut = io.fetchSockets();
  await answerNext(busd, 2, () => ({ status: 1, body: { sockets: [{ id: "x", handshake: {}, rooms: [], data: null }] } }));
  await assert.rejects(timingOut, { message: "timeout reached while waiting for fetchSockets response" });
  const failing = io.fetchSockets();
  await answerNext(busd, 2, () => ({ status: 2, body: { error: "Redis unreachable" } }), busd.received.length);
  await assert.rejects(failing, { message: "Redis unreachable" });
});

test("fetchSockets(): a busd that never replies: the stock time-out error after requestsTimeout (+1 s grace)", { skip }, async (t) => {
  const { busd, io } = await startNode(t, { options: { requestsTimeout: 200 } });
  const started = Date.now();
  const fetching = io.fetchSockets();
  const frame = await busd.next((f) => f.type === "CLUSTER_REQUEST");
  assert.equal(frame.timeoutMs, 200);
  await assert.rejects(fetching, { message: "timeout reached while waiting for fetchSockets response" });
  const took = Date.now() - started;
  assert.ok(took >= 1150 && took < 3000, `rejected after ${took} ms`);
  // A reply after that is counted and ignored.
  busd.send({ type: "CLUSTER_REPLY", request: frame.request, status: 0, body: { sockets: [] } });
  await waitFor(() => io.of("/").adapter.hub.counters.lateReplies === 1);
});

test("allRooms(): local rooms plus the other servers', numbers kept; time-out error as stock", { skip }, async (t) => {
  const { busd, io, connect } = await startNode(t);
  const a = await connect();
  a.socket.join(["r1", 9]);
  const rooms = io.of("/").adapter.allRooms();
  await answerNext(busd, 3, () => ({ status: 0, body: { rooms: ["r1", "r2", 9, 10] } }));
  assert.deepEqual([...(await rooms)].sort(), [a.id, "r1", "r2", 9, 10].sort());
  const late = io.of("/").adapter.allRooms();
  await answerNext(busd, 3, () => ({ status: 1, body: { rooms: ["r2"] } }), busd.received.length);
  await assert.rejects(late, { message: "timeout reached while waiting for allRooms response" });
});

test("socketsJoin / socketsLeave / disconnectSockets: published, not applied here (busd's APPLY does it), local ones applied at once", { skip }, async (t) => {
  const { busd, io, connect } = await startNode(t);
  const a = await connect();
  a.socket.join("room1");
  io.in("room1").except(3).socketsJoin(["j1", 2]);
  io.in("room1").socketsLeave("room1");
  io.except("vip").disconnectSockets(true);
  const [join, leave, disconnect] = await waitFor(() => {
    const frames = busd.frames("CLUSTER_REQUEST");
    return frames.length === 3 && frames;
  });
  assert.deepEqual([join.kind, join.body], [4, { opts: { rooms: ["room1"], except: [3] }, rooms: ["j1", 2] }]);
  assert.deepEqual([leave.kind, leave.body], [5, { opts: { rooms: ["room1"], except: [] }, rooms: ["room1"] }]);
  assert.deepEqual([disconnect.kind, disconnect.body], [6, { opts: { rooms: [], except: ["vip"] }, close: true }]);
  await sleep(50);
  assert.deepEqual([...a.socket.rooms], [a.id, "room1"], "not applied before busd's APPLY");
  assert.equal(a.client.connected, true);

  io.local.socketsJoin("localRoom");
  assert.ok(a.socket.rooms.has("localRoom"), "flags.local: applied here, nothing sent");
  assert.equal(busd.frames("CLUSTER_REQUEST").length, 3);
});

test("serverSideEmit without ack: published, not run here", { skip }, async (t) => {
  const { busd, io } = await startNode(t);
  let ranHere = false;
  io.on("hello", () => (ranHere = true));
  io.serverSideEmit("hello", { a: 1 }, 2);
  const frame = await busd.next((f) => f.type === "CLUSTER_REQUEST");
  assert.deepEqual([frame.kind, frame.body], [7, ["hello", { a: 1 }, 2]]);
  await sleep(20);
  assert.equal(ranHere, false);
});

test("serverSideEmitWithAck: the other servers' responses; on time-out the stock error with the partial responses", { skip }, async (t) => {
  const { busd, io } = await startNode(t);
  const done = io.serverSideEmitWithAck("ping", 1);
  const frame = await answerNext(busd, 8, () => ({ status: 0, body: { responses: ["pong-a", { b: 2 }], expected: 2 } }));
  assert.deepEqual(frame.body, ["ping", 1]);
  assert.deepEqual(await done, ["pong-a", { b: 2 }]);

  const partial = io.serverSideEmitWithAck("ping", 2);
  await answerNext(busd, 8, () => ({ status: 1, body: { responses: ["only-one"], expected: 3 } }), busd.received.length);
  await assert.rejects(partial, (err) => {
    assert.equal(err.message, "timeout reached: only 1 responses received out of 3");
    assert.deepEqual(err.responses, ["only-one"]);
    return true;
  });

  // The callback form.
  const viaCallback = new Promise((resolve) => io.serverSideEmit("ping", 3, (err, responses) => resolve([err, responses])));
  await answerNext(busd, 8, () => ({ status: 0, body: { responses: [], expected: 0 } }), busd.received.length);
  assert.deepEqual(await viaCallback, [null, []]);
});

test("acked broadcast: local clients, then other servers' counts and acks relayed from busd", { skip }, async (t) => {
  const { busd, io, connect } = await startNode(t);
  const a = await connect();
  a.client.on("ask", (n, cb) => cb(`local ${n}`));
  const result = new Promise((resolve) => io.timeout(2000).emit("ask", 1, (err, responses) => resolve([err, responses])));
  const frame = await busd.next((f) => f.type === "BROADCAST_WITH_ACK");
  assert.equal(frame.packet.toString(), '2["ask",1]', "published without this node's ack id, as the stock adapter does");
  assert.deepEqual([frame.rooms, frame.except, frame.timeoutMs, frame.namespace], [[], [], 2000, "/"]);
  await answerNext(busd, 1, () => ({ status: 0, body: { count: 3 } }));
  busd.send({ type: "ACK_COUNT", request: frame.request, clientCount: 2 });
  busd.send({ type: "ACK_ARGUMENT", request: frame.request, argument: "remote 1" });
  busd.send({ type: "ACK_COUNT", request: frame.request, clientCount: 0 });
  busd.send({ type: "ACK_ARGUMENT", request: frame.request, argument: { r: 2 } });
  const [err, responses] = await result;
  assert.equal(err, null);
  assert.deepEqual(responses.sort(), ["local 1", "remote 1", { r: 2 }].sort());
});

test("acked broadcast: a server that does not answer in time gives socket.io's time-out with the responses so far", { skip }, async (t) => {
  const { busd, io, connect } = await startNode(t);
  const a = await connect();
  a.client.on("ask", (cb) => cb("local"));
  const started = Date.now();
  const result = new Promise((resolve) => io.timeout(300).emit("ask", (err, responses) => resolve([err, responses])));
  const frame = await busd.next((f) => f.type === "BROADCAST_WITH_ACK");
  await answerNext(busd, 1, () => ({ status: 0, body: { count: 2 } }));
  busd.send({ type: "ACK_COUNT", request: frame.request, clientCount: 1 }); // and its client never answers
  const [err, responses] = await result;
  assert.equal(err.message, "operation has timed out");
  assert.deepEqual(responses, ["local"]);
  assert.ok(Date.now() - started >= 290);
});

test("emitWithAck to a remote socket (expectSingleResponse): the remote client's answer", { skip }, async (t) => {
  const { busd, io } = await startNode(t);
  const sending = io.timeout(1000).to("remoteSid").emitWithAck("ask");
  const frame = await busd.next((f) => f.type === "BROADCAST_WITH_ACK");
  assert.deepEqual(frame.rooms, ["remoteSid"]);
  await answerNext(busd, 1, () => ({ status: 0, body: { count: 2 } }));
  busd.send({ type: "ACK_COUNT", request: frame.request, clientCount: 1 });
  busd.send({ type: "ACK_ARGUMENT", request: frame.request, argument: "from far" });
  assert.deepEqual(await sending, ["from far"]);
});

test("without a v2 session (busd speaks v1) the calls act on this node, as today", { skip }, async (t) => {
  const { busd, io, connect, logger } = await startNode(t, { welcome: { version: 1 } });
  const a = await connect();
  a.socket.join(7);
  assert.equal(await io.of("/").adapter.serverCount(), 1);
  assert.deepEqual((await io.fetchSockets()).map((s) => s.id), [a.id]);
  io.socketsJoin("everyone");
  assert.ok(a.socket.rooms.has("everyone"));
  await assert.rejects(io.serverSideEmitWithAck("x"), /needs busd with local protocol version 2/);
  io.to(7).emit("hi");
  const frame = await busd.next((f) => f.type === "BROADCAST");
  assert.deepEqual(frame.rooms, ["7"]);
  const join = await busd.next((f) => f.type === "SOCKET_JOIN" && f.rooms.includes("7"));
  assert.deepEqual(join.rooms, ["7"]);
  assert.equal(busd.frames("NAMESPACE").length, 0);
  assert.equal(busd.frames("CLUSTER_REQUEST").length, 0);
  assert.ok(logger.lines.some((line) => line.includes("speaks local protocol version 1")));
});

test("RemoteSocket operations go through busd: emit as ROOMS_BROADCAST to its id, join as a CLUSTER_REQUEST", { skip }, async (t) => {
  const { busd, io } = await startNode(t);
  const fetching = io.fetchSockets();
  await answerNext(busd, 2, () => ({ status: 0, body: { sockets: [{ id: "rs1", handshake: {}, rooms: ["rs1"], data: {} }] } }));
  const [remote] = await fetching;
  remote.emit("hey", 1);
  remote.join("club");
  const broadcast = await busd.next((f) => f.type === "ROOMS_BROADCAST");
  assert.deepEqual(broadcast.rooms, ["rs1"]);
  const join = await busd.next((f) => f.type === "CLUSTER_REQUEST" && f.kind === 4);
  assert.deepEqual(join.body, { opts: { rooms: ["rs1"], except: [] }, rooms: ["club"] });
});

test("concurrent calls: replies matched by request id, whatever their order", { skip }, async (t) => {
  const { busd, io } = await startNode(t);
  const first = io.in("a").fetchSockets();
  const second = io.in("b").fetchSockets();
  const count = io.of("/").adapter.serverCount();
  const requests = await waitFor(() => {
    const frames = busd.frames("CLUSTER_REQUEST");
    return frames.length === 3 && frames;
  });
  assert.equal(new Set(requests.map((f) => f.request)).size, 3, "distinct request ids");
  const [a, b, c] = requests;
  busd.send({ type: "CLUSTER_REPLY", request: c.request, status: 0, body: { count: 2 } });
  busd.send({ type: "CLUSTER_REPLY", request: b.request, status: 0, body: { sockets: [{ id: "in-b", handshake: {}, rooms: ["b"], data: {} }] } });
  busd.send({ type: "CLUSTER_REPLY", request: a.request, status: 0, body: { sockets: [{ id: "in-a", handshake: {}, rooms: ["a"], data: {} }] } });
  assert.deepEqual((await first).map((s) => s.id), ["in-a"]);
  assert.deepEqual((await second).map((s) => s.id), ["in-b"]);
  assert.equal(await count, 2);
  // A second reply to the same id is late and ignored.
  busd.send({ type: "CLUSTER_REPLY", request: a.request, status: 0, body: { sockets: [] } });
  await waitFor(() => io.of("/").adapter.hub.counters.lateReplies === 1);
});

test("the link to busd drops mid-request: the stock time-out error, and the next session's requests go on", { skip }, async (t) => {
  const { busd, io, Adapter } = await startNode(t, { options: { requestsTimeout: 100 } });
  const fetching = io.fetchSockets();
  const pending = await busd.next((f) => f.type === "CLUSTER_REQUEST");
  busd.dropConnection();
  await assert.rejects(fetching, { message: "timeout reached while waiting for fetchSockets response" });
  await waitFor(() => Adapter.bus.connected && Adapter.bus.counters.sessions === 2, { what: "the next session" });
  const mark = busd.received.length;
  const again = io.fetchSockets();
  const next = await busd.next((f) => f.type === "CLUSTER_REQUEST", { from: mark });
  assert.notEqual(next.request, pending.request);
  busd.send({ type: "CLUSTER_REPLY", request: next.request, status: 0, body: { sockets: [] } });
  assert.deepEqual(await again, []);
});

test("requests and ackRequests: this namespace's calls in flight, empty once they are over (as the stock adapter's)", { skip }, async (t) => {
  const { busd, io, connect } = await startNode(t);
  const adapter = io.of("/").adapter;
  const a = await connect();
  a.client.on("ask", (cb) => cb("local"));
  const fetching = io.fetchSockets();
  const request = await busd.next((f) => f.type === "CLUSTER_REQUEST");
  assert.equal(adapter.requests.size, 1);
  busd.send({ type: "CLUSTER_REPLY", request: request.request, status: 0, body: { sockets: [] } });
  await fetching;
  assert.equal(adapter.requests.size, 0);

  const done = new Promise((resolve) => io.timeout(200).emit("ask", (err, responses) => resolve([err, responses])));
  const withAck = await busd.next((f) => f.type === "BROADCAST_WITH_ACK");
  assert.equal(adapter.ackRequests.size, 1);
  const count = await busd.next((f) => f.type === "CLUSTER_REQUEST" && f.kind === 1, { from: busd.received.indexOf(withAck) });
  busd.send({ type: "CLUSTER_REPLY", request: count.request, status: 0, body: { count: 2 } });
  busd.send({ type: "ACK_COUNT", request: withAck.request, clientCount: 1 });
  // A Buffer crosses busd in Node's JSON form and is a Buffer again, as the stock adapter hands it over.
  busd.send({ type: "ACK_ARGUMENT", request: withAck.request, argument: { type: "Buffer", data: [1, 2] } });
  const [err, responses] = await done;
  assert.equal(err, null);
  assert.deepEqual(responses.map((r) => (Buffer.isBuffer(r) ? ["buffer", [...r]] : r)).sort(), [["buffer", [1, 2]], "local"].sort());
  await sleep(250);
  assert.equal(adapter.ackRequests.size, 0, "forgotten after the broadcast's time-out");
});

test("while busd is away: a fetchSockets waits for the next session within its time-out; socketsJoin and serverSideEmit wait in the queue", { skip }, async (t) => {
  const { busd, io, Adapter } = await startNode(t, { options: { requestsTimeout: 3000 } });
  busd.autoWelcome = false;
  busd.dropConnection();
  await waitFor(() => !Adapter.bus.connected);
  const fetching = io.fetchSockets();
  io.socketsJoin("later");
  io.serverSideEmit("later", 1);
  await sleep(100);
  const mark = busd.received.length;
  busd.autoWelcome = true;
  busd.dropConnection(); // the next attempt gets a WELCOME
  const request = await busd.next((f) => f.type === "CLUSTER_REQUEST" && f.kind === 2, { from: mark, timeout: 5000 });
  assert.ok(request.timeoutMs > 0 && request.timeoutMs <= 3000, `the time left: ${request.timeoutMs}`);
  busd.send({ type: "CLUSTER_REPLY", request: request.request, status: 0, body: { sockets: [{ id: "far", handshake: {}, rooms: [], data: null }] } });
  assert.deepEqual((await fetching).map((s) => s.id), ["far"]);
  const queued = busd.received.slice(mark).filter((f) => f.type === "CLUSTER_REQUEST" && f.kind !== 2).map((f) => [f.kind, f.body]);
  assert.deepEqual(queued, [[4, { opts: { rooms: [], except: [] }, rooms: ["later"] }], [7, ["later", 1]]]);
});

test("while busd is away longer than requestsTimeout: the stock time-out errors", { skip }, async (t) => {
  const { busd, io, Adapter } = await startNode(t, { options: { requestsTimeout: 300 } });
  busd.autoWelcome = false;
  busd.dropConnection();
  await waitFor(() => !Adapter.bus.connected);
  const started = Date.now();
  await assert.rejects(io.fetchSockets(), { message: "timeout reached while waiting for fetchSockets response" });
  assert.ok(Date.now() - started >= 290);
  await assert.rejects(io.of("/").adapter.allRooms(), { message: "timeout reached while waiting for allRooms response" });
  await assert.rejects(io.serverSideEmitWithAck("x"), /timeout reached/);
  assert.equal(await io.of("/").adapter.serverCount(), 1, "serverCount does not wait: this node is what it sees");
});
