"use strict";
// The node's cluster calls in flight through busd (protocol v2): request ids
// (u32, chosen by the node), the CLUSTER_REPLY each waits for, and the
// acked broadcasts whose ACK_COUNT / ACK_ARGUMENT frames busd relays.

const { REPLY_STATUS } = require("./frames");

// busd replies at the latest when the request's time-out has passed; this
// much later the node stops waiting by itself (busd gone, link lost).
const REPLY_GRACE_MS = 1000;
const MAX_ID = 0xffffffff;
// setTimeout fires at once for anything longer (with a warning).
const MAX_TIMER_MS = 2 ** 31 - 1;

function timerMs(ms) {
  const n = Number(ms);
  return Number.isFinite(n) && n > 0 ? Math.min(n, MAX_TIMER_MS) : 0;
}

class RequestTable {
  constructor() {
    this.nextId = 1;
    this.replies = new Map(); // id -> { settle(status, body), timer }
    this.acks = new Map(); // id -> { clientCountCallback, ack, timer }
  }

  /** A request id not in use (ids wrap; 0 is never used). */
  allocate() {
    for (;;) {
      const id = this.nextId;
      this.nextId = id >= MAX_ID ? 1 : id + 1;
      if (!this.replies.has(id) && !this.acks.has(id)) return id;
    }
  }

  /**
   * Waits for the CLUSTER_REPLY of `id`: settle(status, body) runs once, with
   * busd's reply or, after timeoutMs + the grace, with status TIMED_OUT and
   * no body.
   */
  expectReply(id, timeoutMs, settle) {
    const timer = setTimeout(() => this.settle(id, REPLY_STATUS.TIMED_OUT, undefined), timerMs(timeoutMs + REPLY_GRACE_MS));
    timer.unref();
    this.replies.set(id, { settle, timer });
  }

  /** A CLUSTER_REPLY: returns false for an id nobody waits for (late, or a previous session's). */
  settle(id, status, body) {
    const entry = this.replies.get(id);
    if (!entry) return false;
    this.replies.delete(id);
    clearTimeout(entry.timer);
    entry.settle(status, body);
    return true;
  }

  /** An acked broadcast: relayed counts and arguments for timeoutMs, then forgotten (as the stock adapter does). */
  expectAcks(id, timeoutMs, clientCountCallback, ack, onForget = () => {}) {
    const timer = setTimeout(() => {
      this.acks.delete(id);
      onForget();
    }, timerMs(timeoutMs));
    timer.unref();
    this.acks.set(id, { clientCountCallback, ack, timer });
  }

  ackCount(id, count) {
    const entry = this.acks.get(id);
    if (!entry) return false;
    entry.clientCountCallback(count);
    return true;
  }

  ackArgument(id, argument) {
    const entry = this.acks.get(id);
    if (!entry) return false;
    entry.ack(reviveBuffers(argument));
    return true;
  }

  get size() {
    return this.replies.size + this.acks.size;
  }

  clear() {
    for (const entry of this.acks.values()) clearTimeout(entry.timer);
    this.acks.clear();
  }
}

/**
 * A client's ack argument crosses busd as JSON; a Buffer travels in Node's
 * own JSON form, `{"type":"Buffer","data":[bytes]}` (what JSON.stringify
 * makes of it, and what busd writes for a msgpack bin), and is a Buffer again
 * here, as the stock adapter hands it over.
 */
function reviveBuffers(value) {
  if (Array.isArray(value)) return value.map(reviveBuffers);
  if (!value || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 2 && value.type === "Buffer" && Array.isArray(value.data) && value.data.every(isByte)) {
    return Buffer.from(value.data);
  }
  const out = {};
  for (const key of keys) out[key] = reviveBuffers(value[key]);
  return out;
}

function isByte(n) {
  return Number.isInteger(n) && n >= 0 && n <= 255;
}

module.exports = { RequestTable, REPLY_GRACE_MS, reviveBuffers };
