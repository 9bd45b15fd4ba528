"use strict";
// What emitWithConfirmation waits for (busd's DeliveryWait, in Node): the
// sockets it expects (targets the registry knows, and every socket a node
// reported dispatching to) and the first outcome of each. When rooms were
// targeted, members are known only from the nodes' `dispatched` records,
// so the wait also lets a quiet period pass after the last one.

const { performance } = require("node:perf_hooks");

const QUIET_MS = 250;

class ConfirmationWait {
  constructor({ knownSockets, hasRoomTargets, quietMs = QUIET_MS }) {
    this.expected = [...new Set(knownSockets)];
    this.expectedSet = new Set(this.expected);
    this.hasRoomTargets = hasRoomTargets;
    this.quietMs = quietMs;
    this.outcomes = new Map();
    this.lastDispatch = null;
    this.nodes = new Set();
    this.lastOutcomeAt = null;
  }

  take(record, now = Date.now()) {
    // A Set beside the ordered list: 1,000 targets would make includes() quadratic.
    const expect = (socket) => {
      if (this.expectedSet.has(socket)) return;
      this.expectedSet.add(socket);
      this.expected.push(socket);
    };
    if (record.type === "dispatched") {
      this.nodes.add(record.node);
      this.lastDispatch = now;
      record.sockets.forEach(expect);
    } else if (!this.outcomes.has(record.socketId)) {
      expect(record.socketId);
      this.outcomes.set(record.socketId, record);
      this.lastOutcomeAt = performance.now();
    }
  }

  isComplete(now = Date.now()) {
    if (this.expected.length === 0 || !this.expected.every((s) => this.outcomes.has(s))) return false;
    if (!this.hasRoomTargets) return true;
    return this.lastDispatch !== null && now - this.lastDispatch >= this.quietMs;
  }

  async run(feed, deadline) {
    while (!this.isComplete()) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      // Short polls while a quiet period may be running out.
      const record = await feed.next(Math.min(left, 50));
      if (record) this.take(record);
    }
  }

  result(messageId, receivers) {
    const outcomes = this.expected
      .filter((socket) => this.outcomes.has(socket))
      .map((socket) => {
        const r = this.outcomes.get(socket);
        const outcome = { socketId: r.socketId, status: r.status, node: r.node, latencyMs: r.latencyMs };
        if (Array.isArray(r.args)) outcome.args = r.args;
        return outcome;
      });
    const unanswered = this.expected.filter((socket) => !this.outcomes.has(socket));
    const delivered = outcomes.filter((o) => o.status === "delivered").length;
    return {
      messageId,
      receivers,
      expected: this.expected.length,
      delivered,
      outcomes,
      unanswered,
      complete: this.isComplete(),
      nodes: [...this.nodes],
    };
  }
}

module.exports = { ConfirmationWait };
