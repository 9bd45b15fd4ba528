"use strict";
// What the adapters of one `createAdapter()` share: the connection to busd,
// busd's ack ids, the counters, and the routing of busd's frames to the
// adapter of their namespace.

const { AckTracker } = require("./acks");
const { ACK_STATUS } = require("./frames");

/** One per `createAdapter()`; adapters attach when socket.io creates them. */
class Hub {
  constructor(bus, options) {
    this.bus = bus;
    this.reportAckTimeouts = Boolean(options.reportAckTimeouts);
    this.adapters = new Map(); // namespace name -> adapter
    this.counters = {
      deliveries: 0, // DELIVER frames
      packetsWritten: 0, // one per target socket
      missingSockets: 0, // DELIVER targets no longer on this node
      unknownNamespaces: 0,
      acksRegistered: 0,
      acksConfirmed: 0,
      acksExpired: 0,
      serverSideEmitsReceived: 0,
      serverSideEmitsRejected: 0, // bad JSON from busd
      serverSideEmitsNotSent: 0, // this node's own serverSideEmit (not carried)
    };
    this.acks = new AckTracker({
      onAck: (socket, ackId, args) => {
        this.counters.acksConfirmed++;
        this.bus.send({ type: "ACKED", ackId, socketId: socket.id, status: ACK_STATUS.DELIVERED, arguments: stringifyArgs(args) });
      },
      onExpire: (socket, ackId) => {
        this.counters.acksExpired++;
        if (this.reportAckTimeouts) {
          this.bus.send({ type: "ACKED", ackId, socketId: socket.id, status: ACK_STATUS.TIMEOUT, arguments: "[]" });
        }
      },
    });
    bus.on("ready", (welcome) => {
      this.acks.setTimeout(welcome.ackTimeoutMs);
      for (const adapter of this.adapters.values()) adapter.resync();
    });
    // When a session ends busd settles its ids itself (a restart forgets
    // them; a dropped link counts the node's sockets as gone): ours go too.
    bus.on("down", () => this.acks.clear());
    bus.on("frame", (frame) => this.route(frame));
  }

  attach(adapter) {
    this.adapters.set(adapter.nsp.name, adapter);
    this.bus.start();
  }

  detach(adapter) {
    if (this.adapters.get(adapter.nsp.name) === adapter) this.adapters.delete(adapter.nsp.name);
    if (this.adapters.size > 0) return Promise.resolve();
    this.acks.stop();
    return this.bus.close();
  }

  route(frame) {
    const adapter = this.adapters.get(frame.namespace);
    if (!adapter) {
      this.counters.unknownNamespaces++;
      return;
    }
    switch (frame.type) {
      case "DELIVER": return adapter.onDeliver(frame);
      case "SOCKETS_JOIN": return adapter.forEachLocal(frame.socketIds, (socket) => socket.join(frame.rooms));
      case "SOCKETS_LEAVE": return adapter.forEachLocal(frame.socketIds, (socket) => frame.rooms.forEach((room) => socket.leave(room)));
      case "SOCKETS_DISCONNECT": return adapter.forEachLocal(frame.socketIds, (socket) => socket.disconnect(frame.close));
      case "SERVER_SIDE_EMIT": return adapter.onServerSideEmit(frame.data);
    }
  }

  stats() {
    return { ...this.bus.stats(), ...this.counters, pendingAcks: this.acks.size, namespaces: [...this.adapters.keys()] };
  }
}

function stringifyArgs(args) {
  try {
    return JSON.stringify(args);
  } catch {
    return "[]"; // a circular or BigInt argument: the ack still counts as delivered
  }
}

module.exports = { Hub };
