"use strict";
// join() of a room new to this node waits for busd (local protocol v2,
// CLUSTER_REQUEST kind 9 ROOMS_SUBSCRIBED): with the sharded adapter in a
// dynamic mode busd subscribes the room's channel, and join() resolves once
// Redis has confirmed it, as a stock sharded node's join() does. Against the
// fake busd, answering by hand.
const test = require("node:test");
const assert = require("node:assert/strict");
const { startNode } = require("../test-support/real-io");
const { skipReason } = require("../test-support/stock");
const { sleep } = require("../test-support/wait");

const skip = skipReason || false;

function roomWait(busd, room) {
  return busd.next((f) => f.type === "CLUSTER_REQUEST" && f.kind === 9 && f.body.rooms.includes(room));
}

function answer(busd, frame, body, status = 0) {
  busd.send({ type: "CLUSTER_REPLY", request: frame.request, status, body });
}

test("join() of a new room returns a Promise that resolves on busd's confirmation; a room the node has stays synchronous", { skip }, async (t) => {
  const { busd, connect, Adapter } = await startNode(t);
  busd.roomWaitMode = "manual";
  const connecting = connect();
  // socket.io joins a socket to its own id room on connect (and ignores the result).
  answer(busd, await busd.next((f) => f.type === "CLUSTER_REQUEST" && f.kind === 9), { waits: true });
  const a = await connecting;
  const bConnecting = connect();
  answer(busd, await busd.next((f) => f.type === "CLUSTER_REQUEST" && f.kind === 9 && f.body.rooms[0] !== a.id), { waits: true });
  const b = await bConnecting;

  let resolved = false;
  const joined = a.socket.join(["fresh", 123]);
  assert.ok(joined instanceof Promise);
  joined.then(() => (resolved = true));
  const wait = await roomWait(busd, "fresh");
  assert.deepEqual([wait.namespace, wait.body, wait.timeoutMs], ["/", { rooms: ["fresh", 123] }, 5000]);
  // ROOMS_JOIN goes first: busd has written the SSUBSCRIBE when the wait arrives.
  const before = busd.received[busd.received.indexOf(wait) - 1];
  assert.deepEqual([before.type, before.socketId, before.rooms], ["ROOMS_JOIN", a.id, ["fresh", 123]]);
  await sleep(50);
  assert.equal(resolved, false, "join() resolved before busd's confirmation");
  // The join is applied on this node at once all the same.
  assert.ok(a.socket.rooms.has("fresh"));
  answer(busd, wait, { waits: true });
  await joined;

  // Only rooms no socket of this node was in can need a new channel.
  assert.equal(b.socket.join("fresh"), undefined);
  assert.equal(a.socket.join(123), undefined);
  const partly = b.socket.join(["fresh", "newer"]);
  assert.deepEqual((await roomWait(busd, "newer")).body, { rooms: ["newer"] });
  answer(busd, busd.frames("CLUSTER_REQUEST").at(-1), { waits: true });
  await partly;

  // A failure (or no answer in time) resolves: apps ignore join()'s result, a rejection would end the process.
  const failing = a.socket.join("broken");
  answer(busd, await roomWait(busd, "broken"), { error: "Redis did not confirm" }, 2);
  await failing;
  assert.equal(Adapter.stats().roomChannelWaitsFailed, 1);

  // A busd without room channels says so once: join() is synchronous for the rest of the session.
  const last = a.socket.join("plain");
  answer(busd, await roomWait(busd, "plain"), { waits: false });
  await last;
  const asked = busd.frames("CLUSTER_REQUEST").length;
  assert.equal(a.socket.join("other"), undefined);
  await sleep(30);
  assert.equal(busd.frames("CLUSTER_REQUEST").length, asked);
  assert.equal(Adapter.stats().roomChannelWaits, 6);
});

test("a v1 session never waits: join() stays synchronous", { skip }, async (t) => {
  const { busd, connect } = await startNode(t, { welcome: { version: 1 } });
  busd.roomWaitMode = "manual";
  const a = await connect();
  assert.equal(a.socket.join("fresh"), undefined);
  await sleep(30);
  assert.equal(busd.frames("CLUSTER_REQUEST").length, 0);
});
