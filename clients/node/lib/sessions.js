"use strict";
// Connection state recovery on the node that holds the session, with the
// rules of socket.io-adapter's SessionAwareAdapter: an event broadcast
// without ack and without the volatile flag gets an offset (appended to its
// arguments, where the client reads it), and is kept for
// maxDisconnectionDuration; a client that comes back with its session id and
// last offset gets the packets after that offset that were meant for its rooms.

const { randomBytes } = require("node:crypto");

const SWEEP_INTERVAL_MS = 60 * 1000;

/** Offsets: unique per process and increasing, opaque to the client. */
const offsetPrefix = randomBytes(3).toString("base64url");
let offsetCounter = 0;
function nextOffset() {
  offsetCounter = (offsetCounter + 1) % Number.MAX_SAFE_INTEGER;
  return `${offsetPrefix}${Date.now().toString(36)}.${offsetCounter.toString(36)}`;
}

class SessionStore {
  constructor(maxDisconnectionDuration) {
    this.maxDisconnectionDuration = maxDisconnectionDuration;
    this.sessions = new Map();
    this.packets = [];
    this.timer = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** Adds the offset to `packet.data` and keeps the packet; returns the offset, or null when the packet is not kept. */
  record(packet, opts) {
    const isEvent = packet.type === 2;
    const withoutAck = packet.id === undefined || packet.id === null;
    // socket.io sets volatile to true or leaves it out; busd's flags byte says false.
    const notVolatile = !(opts.flags && opts.flags.volatile);
    if (!isEvent || !withoutAck || !notVolatile || !Array.isArray(packet.data)) return null;
    const id = nextOffset();
    packet.data.push(id);
    this.packets.push({
      id,
      opts: { rooms: new Set(opts.rooms || []), except: new Set(opts.except || []) },
      data: packet.data,
      emittedAt: Date.now(),
    });
    return id;
  }

  persist(session) {
    session.disconnectedAt = Date.now();
    this.sessions.set(session.pid, session);
  }

  restore(pid, offset) {
    const session = this.sessions.get(pid);
    if (!session) return null;
    if (session.disconnectedAt + this.maxDisconnectionDuration < Date.now()) {
      this.sessions.delete(pid);
      return null;
    }
    const index = this.packets.findIndex((packet) => packet.id === offset);
    if (index === -1) return null;
    const missedPackets = [];
    for (let i = index + 1; i < this.packets.length; i++) {
      const packet = this.packets[i];
      if (meantFor(session.rooms, packet.opts)) missedPackets.push(packet.data);
    }
    return Promise.resolve({ ...session, missedPackets });
  }

  sweep(now) {
    const threshold = now - this.maxDisconnectionDuration;
    for (const [pid, session] of this.sessions) if (session.disconnectedAt < threshold) this.sessions.delete(pid);
    let expired = 0;
    while (expired < this.packets.length && this.packets[expired].emittedAt < threshold) expired++;
    if (expired > 0) this.packets.splice(0, expired);
  }

  stop() {
    clearInterval(this.timer);
  }
}

function meantFor(sessionRooms, opts) {
  const included = opts.rooms.size === 0 || sessionRooms.some((room) => opts.rooms.has(room));
  const notExcluded = sessionRooms.every((room) => !opts.except.has(room));
  return included && notExcluded;
}

module.exports = { SessionStore, nextOffset };
