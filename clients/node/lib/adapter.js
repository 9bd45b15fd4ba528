"use strict";
// The socket.io v4 adapter. It keeps the rooms in memory exactly like
// socket.io-adapter's in-memory Adapter (local delivery works the same), and
// mirrors every change to busd: connects, joins, leaves, disconnects and the
// node's own broadcasts. busd's DELIVERs are written to the sockets as the
// pre-encoded packets they are, and its requests (socketsJoin, ...) are
// applied to the local sockets.

const { EventEmitter } = require("node:events");
const { BusConnection } = require("./connection");
const { Hub } = require("./hub");

function toArray(rooms) {
  return rooms ? Array.from(rooms) : [];
}

class SocketBusAdapter extends EventEmitter {
  constructor(nsp, hub) {
    super();
    this.nsp = nsp;
    this.encoder = nsp.server.encoder;
    /** room -> socket ids, socket id -> rooms: as socket.io-adapter keeps them. */
    this.rooms = new Map();
    this.sids = new Map();
    this.hub = hub;
    this.connectedAt = new Map();
    this.disconnectReasons = new Map();
    this.warnedServerSideEmit = false;
    hub.attach(this);
  }

  /** The shared link to busd (for `connected`, `stats()`). */
  get bus() {
    return this.hub.bus;
  }

  init() {}

  close() {
    // Whatever is left belongs to a namespace that goes away.
    for (const id of [...this.sids.keys()]) this.delAll(id, "adapter closed");
    return this.hub.detach(this);
  }

  /** One node as far as this process can tell: busd carries no server-to-server requests. */
  serverCount() {
    return Promise.resolve(1);
  }

  // ---- rooms ----

  addAll(id, rooms) {
    let joined = this.sids.get(id);
    if (!joined) {
      // socket.io joins a socket to its own id room when it connects: the
      // first addAll for an id is its connect.
      this.sids.set(id, (joined = new Set()));
      this.connectedAt.set(id, Date.now());
      this.watchDisconnect(id);
      this.send({ type: "SOCKET_CONNECT", namespace: this.nsp.name, socketId: id, connectedAt: this.connectedAt.get(id) });
    }
    const added = [];
    for (const room of rooms) {
      if (!joined.has(room)) {
        joined.add(room);
        added.push(room);
      }
      let members = this.rooms.get(room);
      if (!members) {
        this.rooms.set(room, (members = new Set()));
        this.emit("create-room", room);
      }
      if (!members.has(id)) {
        members.add(id);
        this.emit("join-room", room, id);
      }
    }
    if (added.length > 0) this.send({ type: "SOCKET_JOIN", namespace: this.nsp.name, socketId: id, rooms: added });
  }

  del(id, room) {
    const joined = this.sids.get(id);
    if (joined && joined.delete(room)) {
      this.send({ type: "SOCKET_LEAVE", namespace: this.nsp.name, socketId: id, rooms: [room] });
    }
    this.removeFromRoom(room, id);
  }

  delAll(id, reason) {
    const joined = this.sids.get(id);
    if (!joined) return;
    for (const room of joined) this.removeFromRoom(room, id);
    this.sids.delete(id);
    this.connectedAt.delete(id);
    this.hub.acks.forgetSocket(id);
    reason = reason || this.disconnectReasons.get(id) || "unknown";
    this.disconnectReasons.delete(id);
    this.send({ type: "SOCKET_DISCONNECT", namespace: this.nsp.name, socketId: id, reason });
  }

  removeFromRoom(room, id) {
    const members = this.rooms.get(room);
    if (!members) return;
    if (members.delete(id)) this.emit("leave-room", room, id);
    if (members.size === 0 && this.rooms.delete(room)) this.emit("delete-room", room);
  }

  // socket.io emits "disconnecting" with the reason just before it calls delAll.
  watchDisconnect(id) {
    const socket = this.nsp.sockets.get(id) || (this.nsp._preConnectSockets && this.nsp._preConnectSockets.get(id));
    if (socket && typeof socket.once === "function") {
      socket.once("disconnecting", (reason) => this.sids.has(id) && this.disconnectReasons.set(id, String(reason)));
    }
  }

  sockets(rooms) {
    const ids = new Set();
    this.apply({ rooms }, (socket) => ids.add(socket.id));
    return Promise.resolve(ids);
  }

  socketRooms(id) {
    return this.sids.get(id);
  }

  // ---- broadcasts ----

  broadcast(packet, opts) {
    const flags = opts.flags || {};
    const writeOptions = { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
    packet.nsp = this.nsp.name;
    const encoded = this.encoder.encode(packet);
    this.apply(opts, (socket) => {
      if (typeof socket.notifyOutgoingListeners === "function") socket.notifyOutgoingListeners(packet);
      socket.client.writeToEngine(encoded, writeOptions);
    });
    if (flags.local) return;
    this.hub.bus.sendBroadcast({
      type: "BROADCAST",
      namespace: this.nsp.name,
      flags: { volatile: flags.volatile, compress: flags.compress },
      rooms: toArray(opts.rooms),
      except: toArray(opts.except),
      packet: encoded[0],
      attachments: encoded.slice(1),
    });
  }

  /** Local sockets only: the protocol carries no acks back from other nodes. */
  broadcastWithAck(packet, opts, clientCountCallback, ack) {
    const flags = opts.flags || {};
    const writeOptions = { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
    packet.nsp = this.nsp.name;
    packet.id = this.nsp._ids++; // one id for all targets: socket.io's counter is per namespace
    const encoded = this.encoder.encode(packet);
    let clientCount = 0;
    this.apply(opts, (socket) => {
      clientCount++;
      socket.acks.set(packet.id, ack);
      if (typeof socket.notifyOutgoingListeners === "function") socket.notifyOutgoingListeners(packet);
      socket.client.writeToEngine(encoded, writeOptions);
    });
    clientCountCallback(clientCount);
  }

  // ---- local socket operations (this node's sockets only) ----

  fetchSockets(opts) {
    const sockets = [];
    this.apply(opts, (socket) => sockets.push(socket));
    return Promise.resolve(sockets);
  }

  addSockets(opts, rooms) {
    this.apply(opts, (socket) => socket.join(rooms));
  }

  delSockets(opts, rooms) {
    this.apply(opts, (socket) => rooms.forEach((room) => socket.leave(room)));
  }

  disconnectSockets(opts, close) {
    this.apply(opts, (socket) => socket.disconnect(close));
  }

  /** Not carried: protocol v1 has no node → busd frame for it. */
  serverSideEmit(packet) {
    this.hub.counters.serverSideEmitsNotSent++;
    if (!this.warnedServerSideEmit) {
      this.warnedServerSideEmit = true;
      this.bus.logger.warn("serverSideEmit() is not sent to other nodes through busd (local protocol v1 has no frame for it)");
    }
    const ack = packet[packet.length - 1];
    if (typeof ack === "function") ack(new Error("serverSideEmit is not supported through socketbus"), []);
  }

  persistSession() {}

  restoreSession() {
    return null;
  }

  /** socket.io-adapter's selection: any of `rooms` (all when empty), minus any room of `except`. */
  apply(opts, callback) {
    const rooms = opts.rooms;
    const except = this.exceptSids(opts.except);
    const sockets = this.nsp.sockets;
    const roomCount = rooms ? (rooms.size !== undefined ? rooms.size : rooms.length) : 0;
    if (roomCount > 0) {
      const seen = new Set();
      for (const room of rooms) {
        const members = this.rooms.get(room);
        if (!members) continue;
        for (const id of members) {
          if (seen.has(id) || except.has(id)) continue;
          const socket = sockets.get(id);
          if (socket) {
            seen.add(id);
            callback(socket);
          }
        }
      }
    } else {
      for (const id of this.sids.keys()) {
        if (except.has(id)) continue;
        const socket = sockets.get(id);
        if (socket) callback(socket);
      }
    }
  }

  exceptSids(exceptRooms) {
    const ids = new Set();
    if (!exceptRooms) return ids;
    for (const room of exceptRooms) {
      const members = this.rooms.get(room);
      if (members) members.forEach((id) => ids.add(id));
    }
    return ids;
  }

  // ---- from busd ----

  /** Sends this namespace's sockets and rooms again: busd's registry after a (re)connect. */
  resync() {
    for (const [id, rooms] of this.sids) {
      this.send({ type: "SOCKET_CONNECT", namespace: this.nsp.name, socketId: id, connectedAt: this.connectedAt.get(id) });
      if (rooms.size > 0) this.send({ type: "SOCKET_JOIN", namespace: this.nsp.name, socketId: id, rooms: [...rooms] });
    }
  }

  onDeliver(frame) {
    const counters = this.hub.counters;
    counters.deliveries++;
    // Written as is, once per socket, the way the Redis adapter does: no decode, no re-encode.
    const encoded = [frame.packet.toString("utf8"), ...frame.attachments];
    const writeOptions = { preEncoded: true, volatile: frame.flags.volatile, compress: frame.flags.compress };
    for (const id of frame.socketIds) {
      const socket = this.nsp.sockets.get(id);
      if (!socket) {
        counters.missingSockets++;
        continue;
      }
      if (frame.ackId !== 0) {
        this.hub.acks.register(socket, frame.ackId);
        counters.acksRegistered++;
      }
      socket.client.writeToEngine(encoded, writeOptions);
      counters.packetsWritten++;
    }
  }

  onServerSideEmit(data) {
    let args;
    try {
      args = JSON.parse(data.toString("utf8"));
    } catch {
      args = null;
    }
    if (!Array.isArray(args) || typeof args[0] !== "string") {
      this.hub.counters.serverSideEmitsRejected++;
      return;
    }
    this.hub.counters.serverSideEmitsReceived++;
    this.nsp._onServerSideEmit(args);
  }

  forEachLocal(ids, callback) {
    for (const id of ids) {
      const socket = this.nsp.sockets.get(id);
      if (socket) callback(socket);
    }
  }

  send(frame) {
    this.hub.bus.send(frame);
  }
}

/**
 * `io.adapter(createAdapter({ path: "/run/socketbus/busd.sock" }))`.
 *
 * Returns the adapter class socket.io instantiates per namespace; all of
 * them share one connection to busd. `.bus` is that connection and
 * `.stats()` a snapshot of its state and counters.
 */
function createAdapter(options = {}) {
  const bus = options.connection || new BusConnection(options);
  const hub = new Hub(bus, options);
  class BoundSocketBusAdapter extends SocketBusAdapter {
    constructor(nsp) {
      super(nsp, hub);
    }
  }
  BoundSocketBusAdapter.bus = bus;
  BoundSocketBusAdapter.hub = hub;
  BoundSocketBusAdapter.stats = () => hub.stats();
  return BoundSocketBusAdapter;
}

module.exports = { createAdapter, SocketBusAdapter };
