"use strict";
// busd's injected ack ids, registered in the target sockets' own ack tables
// (`socket.acks`, where socket.io looks when the client answers). Entries are
// dropped after WELCOME's ack_timeout_ms: busd has timed the id out by then,
// and a socket.io ack table would otherwise grow with every unanswered id.

const SWEEP_INTERVAL_MS = 1000;
const DEFAULT_TIMEOUT_MS = 30000;

class AckTracker {
  /**
   * onAck(socket, ackId, args): the client acked.
   * onExpire(socket, ackId): the entry was dropped unanswered.
   */
  constructor({ onAck, onExpire }) {
    this.onAck = onAck;
    this.onExpire = onExpire;
    this.timeoutMs = DEFAULT_TIMEOUT_MS;
    this.pending = new Map(); // socket id -> Map(ack id -> entry)
    this.order = []; // entries by deadline (the time-out is the same for all)
    this.head = 0;
    this.timer = null;
    this.size = 0;
  }

  setTimeout(ms) {
    this.timeoutMs = ms > 0 ? ms : DEFAULT_TIMEOUT_MS;
  }

  register(socket, ackId) {
    let table = this.pending.get(socket.id);
    if (!table) this.pending.set(socket.id, (table = new Map()));
    if (table.has(ackId)) return; // busd sent the same id to this socket twice
    const entry = { socket, ackId, deadline: Date.now() + this.timeoutMs, fn: null };
    entry.fn = (...args) => {
      if (this.remove(entry)) this.onAck(socket, ackId, args);
    };
    table.set(ackId, entry);
    this.order.push(entry);
    this.size++;
    socket.acks.set(ackId, entry.fn);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** The socket left: its entries go (socket.io drops its ack table with it). */
  forgetSocket(socketId) {
    const table = this.pending.get(socketId);
    if (!table) return;
    this.pending.delete(socketId);
    this.size -= table.size;
    for (const entry of table.values()) entry.done = true;
  }

  /** The session with busd ended: its ack table is gone, so are ours. */
  clear() {
    for (const table of this.pending.values()) {
      for (const entry of table.values()) {
        entry.done = true;
        if (entry.socket.acks.get(entry.ackId) === entry.fn) entry.socket.acks.delete(entry.ackId);
      }
    }
    this.pending.clear();
    this.size = 0;
    this.stop();
  }

  sweep(now) {
    while (this.head < this.order.length && (this.order[this.head].done || this.order[this.head].deadline <= now)) {
      const entry = this.order[this.head++];
      if (entry.done || !this.remove(entry)) continue;
      if (entry.socket.acks.get(entry.ackId) === entry.fn) entry.socket.acks.delete(entry.ackId);
      this.onExpire(entry.socket, entry.ackId);
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    if (this.size === 0) this.stop();
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.order = this.order.filter((entry) => !entry.done);
    this.head = 0;
  }

  remove(entry) {
    if (entry.done) return false;
    entry.done = true;
    const table = this.pending.get(entry.socket.id);
    if (table && table.get(entry.ackId) === entry) {
      table.delete(entry.ackId);
      if (table.size === 0) this.pending.delete(entry.socket.id);
    }
    this.size--;
    return true;
  }
}

module.exports = { AckTracker };
