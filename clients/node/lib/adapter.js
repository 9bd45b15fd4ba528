"use strict";
// The socket.io v4 adapter. Its rooms are socket.io-adapter's in-memory rooms
// (lib/local-adapter.js) and stay authoritative for this node's sockets:
// busd's deliveries and requests name rooms (protocol v2), and the adapter
// picks the sockets itself when it handles them, so a join() that has
// returned applies to everything that arrives after it. Every change is
// mirrored to busd for its registry; the cluster calls of the adapter API go
// through busd (lib/cluster-calls.js).

const { BusConnection } = require("./connection");
const { Hub } = require("./hub");
const { LocalAdapter } = require("./local-adapter");
const { ClusterCalls } = require("./cluster-calls");
const { Incoming } = require("./incoming");

class SocketBusAdapter extends LocalAdapter {
  constructor(nsp, hub) {
    super(nsp);
    if (!this.packets.usable) {
      // Refused at start-up rather than failing on the first broadcast.
      throw new Error(
        `socketbus: this server uses ${this.packets.parserName}, and socket.io-parser, in whose format busd carries ` +
          "packets, cannot be loaded next to socket.io: install socket.io-parser, or use the default parser",
      );
    }
    this.hub = hub;
    this.requestsTimeout = hub.requestsTimeout;
    this.connectedAt = new Map();
    this.disconnectReasons = new Map();
    this.cluster = new ClusterCalls(this);
    this.incoming = new Incoming(this);
    hub.attach(this);
  }

  /** The shared link to busd (for `connected`, `stats()`). */
  get bus() {
    return this.hub.bus;
  }

  /** The cluster calls in flight (request id → kind), like the stock adapter's `requests`. */
  get requests() {
    return this.cluster.requests;
  }

  /** The acked broadcasts whose answers busd still relays, like the stock adapter's `ackRequests`. */
  get ackRequests() {
    return this.cluster.ackRequests;
  }

  /** Whether the session with busd speaks version 2 (cluster calls, typed rooms). */
  get v2() {
    return this.hub.bus.version >= 2;
  }

  init() {}

  close() {
    // Whatever is left belongs to a namespace that goes away.
    for (const id of [...this.sids.keys()]) this.delAll(id, "adapter closed");
    if (this.sessions) this.sessions.stop();
    return this.hub.detach(this);
  }

  // ---- rooms, mirrored to busd ----

  addAll(id, rooms) {
    let told = false; // whether busd is told anything (only then is there a join to hand over now)
    if (!this.sids.has(id)) {
      // socket.io joins a socket to its own id room when it connects: the
      // first addAll for an id is its connect.
      this.connectedAt.set(id, Date.now());
      this.watchDisconnect(id);
      told = this.send({ type: "SOCKET_CONNECT", namespace: this.nsp.name, socketId: id, connectedAt: this.connectedAt.get(id) });
    }
    // Rooms new to this node: with the sharded adapter in a dynamic mode
    // busd subscribes their channels, and join() resolves once Redis has
    // confirmed that (as a stock sharded node's join() does).
    const fresh = this.v2 && this.hub.roomChannelWaits ? [...rooms].filter((room) => !this.rooms.has(room)) : [];
    const added = this.addLocal(id, rooms);
    if (added.length > 0) told = this.sendRooms("join", id, added) || told;
    const channelsConfirmed = fresh.length > 0 ? this.cluster.awaitRoomChannels(fresh) : undefined;
    // In the socket before join() returns: what the application does next
    // (a publish to the room) may reach busd's registry filter (hub.js). A
    // join that changed nothing leaves the tick's other frames corked.
    if (told) this.hub.bus.flush();
    return channelsConfirmed;
  }

  del(id, room) {
    if (this.delLocal(id, room)) this.sendRooms("leave", id, [room]);
  }

  delAll(id, reason) {
    if (!this.delAllLocal(id)) return;
    this.connectedAt.delete(id);
    this.hub.acks.forgetSocket(id);
    reason = reason || this.disconnectReasons.get(id) || "unknown";
    this.disconnectReasons.delete(id);
    this.send({ type: "SOCKET_DISCONNECT", namespace: this.nsp.name, socketId: id, reason });
  }

  // socket.io emits "disconnecting" with the reason just before it calls delAll.
  watchDisconnect(id, retry = true) {
    const { sockets, _preConnectSockets: preConnect } = this.nsp;
    const socket = (sockets && sockets.get(id)) || (preConnect && preConnect.get(id));
    if (socket && typeof socket.once === "function") {
      socket.once("disconnecting", (reason) => this.sids.has(id) && this.disconnectReasons.set(id, String(reason)));
    } else if (retry) {
      // A recovered session joins its rooms inside the Socket constructor, before the namespace holds it.
      setImmediate(() => this.sids.has(id) && this.watchDisconnect(id, false));
    }
  }

  /** ROOMS_JOIN/ROOMS_LEAVE (typed rooms) on a v2 session, SOCKET_JOIN/SOCKET_LEAVE (names) on v1; whether one was sent. */
  sendRooms(change, id, rooms) {
    const namespace = this.nsp.name;
    // A NaN or infinite room cannot be framed: it stays this node's own.
    rooms = rooms.filter((room) => typeof room !== "number" || Number.isFinite(room));
    if (rooms.length === 0) return false;
    if (this.v2) return this.send({ type: change === "join" ? "ROOMS_JOIN" : "ROOMS_LEAVE", namespace, socketId: id, rooms });
    return this.send({ type: change === "join" ? "SOCKET_JOIN" : "SOCKET_LEAVE", namespace, socketId: id, rooms: rooms.map(String) });
  }

  /** This namespace's sockets again (after every NAMESPACE): busd's registry after a (re)connect. */
  resync() {
    const namespace = this.nsp.name;
    for (const [id, rooms] of this.sids) {
      this.send({ type: "SOCKET_CONNECT", namespace, socketId: id, connectedAt: this.connectedAt.get(id) || Date.now() });
      if (rooms.size > 0) this.sendRooms("join", id, [...rooms]);
    }
  }

  // ---- the node's broadcasts ----

  broadcast(packet, opts) {
    packet.nsp = this.nsp.name;
    const flags = opts.flags || {};
    let forBus = null;
    if (this.sessions) {
      // The offset is this node's: other nodes get the packet without it.
      if (!flags.local) forBus = this.packets.forBus(packet, null);
      this.recordForRecovery(packet, opts);
    }
    const encoded = this.packets.encode(packet);
    this.deliverLocal(packet, encoded, opts);
    if (flags.local) return;
    this.sendBroadcast(flags, opts, forBus || this.packets.forBus(packet, encoded));
  }

  /** ROOMS_BROADCAST (typed rooms) unless the session is v1; queued while busd is away. */
  sendBroadcast(flags, opts, { packet, attachments }) {
    const v1 = this.bus.version === 1;
    this.bus.sendBroadcast({
      type: v1 ? "BROADCAST" : "ROOMS_BROADCAST",
      namespace: this.nsp.name,
      flags: { volatile: flags.volatile, compress: flags.compress },
      rooms: v1 ? [...(opts.rooms || [])].map(String) : [...(opts.rooms || [])],
      except: v1 ? [...(opts.except || [])].map(String) : [...(opts.except || [])],
      packet,
      attachments,
    });
  }

  broadcastWithAck(packet, opts, clientCountCallback, ack) {
    packet.nsp = this.nsp.name;
    const flags = opts.flags || {};
    // Published without the ack id, as the stock adapter does: each node uses its own.
    const forBus = !flags.local && this.v2 ? this.packets.forBus(packet, null) : null;
    // One id for all targets: socket.io's counter is per namespace.
    packet.id = this.nsp._ids++;
    const encoded = this.packets.encode(packet);
    const count = this.deliverLocal(packet, encoded, opts, (socket) => socket.acks.set(packet.id, ack));
    clientCountCallback(count);
    if (forBus) this.cluster.broadcastWithAck(flags, opts, forBus, clientCountCallback, ack);
  }

  // ---- the cluster calls (lib/cluster-calls.js) ----

  serverCount() {
    return this.cluster.serverCount();
  }

  fetchSockets(opts) {
    return this.cluster.fetchSockets(opts);
  }

  allRooms() {
    return this.cluster.allRooms();
  }

  addSockets(opts, rooms) {
    return this.cluster.addSockets(opts, rooms);
  }

  delSockets(opts, rooms) {
    return this.cluster.delSockets(opts, rooms);
  }

  disconnectSockets(opts, close) {
    return this.cluster.disconnectSockets(opts, close);
  }

  serverSideEmit(packet) {
    return this.cluster.serverSideEmit(packet);
  }

  serverSideEmitWithAck(packet) {
    return this.cluster.serverSideEmitWithAck(packet);
  }

  send(frame) {
    return this.hub.bus.send(frame);
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
