"use strict";
// busd's registry filter (CLUSTER_REQUEST kind 10, docs/local-protocol-v2.md
// "Which broadcasts reach the node"): the connector asks once per v2
// session, after the resync, and writes a socket's connect and each join to
// the socket before they return, so busd's fence can see them. Against the
// fake busd; the real busd's side is in busd.integration.test.js.
const test = require("node:test");
const assert = require("node:assert/strict");
const { startNode } = require("../test-support/real-io");
const { skipReason } = require("../test-support/stock");
const { waitFor } = require("../test-support/wait");

const skip = skipReason || false;

/** Cuts the link; resolves once the connector's next session is up. */
async function nextSession(busd, Adapter) {
  const sessions = Adapter.bus.counters.sessions;
  busd.dropConnection();
  await waitFor(() => Adapter.bus.counters.sessions === sessions + 1 && Adapter.bus.connected, { what: "the next session" });
}

test("kind 10 is asked once per session, after every NAMESPACE and the resync; busd's reply turns stats().registryFilter on", { skip }, async (t) => {
  const { busd, Adapter, connect } = await startNode(t);
  await waitFor(() => Adapter.stats().registryFilter === true, { what: "the first session's filter" });
  assert.equal(busd.filterRequests.length, 1);
  const a = await connect("/");
  a.socket.join("r1");

  busd.filterMode = "manual";
  const mark = busd.received.length;
  await nextSession(busd, Adapter);
  const request = await busd.next((f) => f.type === "CLUSTER_REQUEST", { from: mark });
  assert.equal(Adapter.stats().registryFilter, false, "off until busd says it filters");
  const order = busd.received.slice(mark).map((f) => (f.type === "CLUSTER_REQUEST" ? `kind ${f.kind}` : f.type));
  assert.deepEqual(order, ["HELLO", "NAMESPACE", "SOCKET_CONNECT", "ROOMS_JOIN", "kind 10"]);
  assert.deepEqual([request.timeoutMs, request.body], [0, undefined]);
  busd.send({ type: "CLUSTER_REPLY", request: request.request, status: 0, body: { filters: true } });
  await waitFor(() => Adapter.stats().registryFilter === true, { what: "the filter after busd's reply" });
});

test("a busd that does not know kind 10 (ERROR 6): the filter stays off, the session goes on", { skip }, async (t) => {
  const { busd, Adapter, connect } = await startNode(t);
  busd.filterMode = "refuse";
  const rejected = Adapter.bus.counters.framesRejectedByBusd;
  await nextSession(busd, Adapter);
  await waitFor(() => Adapter.bus.counters.framesRejectedByBusd === rejected + 1, { what: "ERROR 6" });
  assert.equal(Adapter.stats().registryFilter, false);
  const a = await connect("/");
  a.socket.join("r1");
  await waitFor(() => busd.frames("ROOMS_JOIN").some((f) => f.rooms.includes("r1")), { what: "the join after the refusal" });
  assert.equal(Adapter.bus.connected, true);
  assert.equal(Adapter.bus.counters.sessionsLost, 1, "only the cut");
});

test("a join is in the socket when join() returns; other frames wait for the tick's end", { skip }, async (t) => {
  const { Adapter, connect } = await startNode(t);
  const a = await connect("/");
  const link = Adapter.bus.socket;
  const flushes = Adapter.bus.counters.flushes;
  a.socket.leave("never-there-but-r0"); // nothing to say
  a.socket.join("r0");
  a.socket.leave("r0"); // a ROOMS_LEAVE: corked until the tick ends
  const heldAfterLeave = link.writableLength;
  a.socket.join("r2");
  assert.equal(link.writableLength, 0, "the join (and what came before it) is handed to the socket");
  assert.ok(heldAfterLeave > 0, "a leave waits for the tick's end");
  assert.equal(Adapter.bus.counters.flushes, flushes + 2);
});

test("a join that adds nothing (a room the socket is in) leaves the tick's frames corked", { skip }, async (t) => {
  const { Adapter, connect } = await startNode(t);
  const a = await connect("/");
  a.socket.join("r0");
  const link = Adapter.bus.socket;
  const flushes = Adapter.bus.counters.flushes;
  a.socket.leave("r1-not-joined"); // nothing to say
  a.socket.join("r3");
  a.socket.leave("r3"); // a ROOMS_LEAVE: corked until the tick ends
  const held = link.writableLength;
  assert.ok(held > 0, "a leave waits for the tick's end");
  a.socket.join("r0"); // already in r0: busd is told nothing
  a.socket.join([a.socket.id, "r0"]);
  assert.equal(link.writableLength, held, "nothing handed to the socket early");
  assert.equal(Adapter.bus.counters.flushes, flushes + 1, "only the join of r3 flushed");
});

test("registryFilter: false asks nothing", { skip }, async (t) => {
  const { busd, Adapter } = await startNode(t, { options: { registryFilter: false } });
  await nextSession(busd, Adapter);
  assert.equal(busd.filterRequests.length, 0);
  assert.equal(Adapter.stats().registryFilter, false);
});
