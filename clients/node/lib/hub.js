"use strict";
// What the adapters of one `createAdapter()` share: the connection to busd,
// busd's ack ids, the node's cluster calls in flight, the counters, and the
// routing of busd's frames to the adapter of their namespace.

const { AckTracker } = require("./acks");
const { RequestTable } = require("./requests");
const { ACK_STATUS, REPLY_STATUS, REQUEST_KINDS } = require("./frames");

/** One per `createAdapter()`; adapters attach when socket.io creates them. */
class Hub {
  constructor(bus, options) {
    this.bus = bus;
    this.reportAckTimeouts = Boolean(options.reportAckTimeouts);
    // @socket.io/redis-adapter's option, with its default.
    this.requestsTimeout = options.requestsTimeout || 5000;
    this.customHook = options.customHook;
    // Ask busd to drop broadcasts no socket here can get (askForRegistryFilter); true unless turned off.
    this.asksRegistryFilter = options.registryFilter !== false;
    /** Whether busd filters for this session (its reply to kind 10). */
    this.registryFilter = false;
    this.adapters = new Map(); // namespace name -> adapter
    this.requests = new RequestTable();
    this.counters = {
      deliveries: 0, // DELIVER and DELIVER_TO_ROOMS frames
      packetsWritten: 0, // one per target socket
      missingSockets: 0, // DELIVER targets no longer on this node
      deliveriesUndecodable: 0, // a packet from busd the server's parser could not be given
      unknownNamespaces: 0,
      unknownApplyOps: 0,
      acksRegistered: 0,
      acksConfirmed: 0,
      acksExpired: 0,
      serverSideEmitsReceived: 0,
      serverSideEmitsRejected: 0, // bad JSON from busd
      serverSideEmitsNotSent: 0, // this node's own serverSideEmit on a v1 session
      answersSent: 0,
      answersUnsendable: 0, // answers JSON or the protocol cannot carry (sent as "cannot answer")
      clusterRequests: 0, // CLUSTER_REQUESTs that wait for a reply
      clusterRequestsFailed: 0, // ... that timed out or failed
      serverCountsMissed: 0, // serverCount() without a count from busd (resolved 1)
      roomChannelWaits: 0, // join()s that waited for busd to subscribe a new room's channel
      roomChannelWaitsFailed: 0, // ... that resolved without busd's confirmation
      lateReplies: 0, // CLUSTER_REPLY, ACK_COUNT, ACK_ARGUMENT for a request no longer waiting
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
    // Whether join() asks busd to confirm a new room's channel; busd says
    // "never" once per session when it subscribes no room channels.
    this.roomChannelWaits = true;
    bus.on("ready", (welcome) => {
      this.roomChannelWaits = true;
      this.acks.setTimeout(welcome.ackTimeoutMs);
      // Every NAMESPACE first, then the sockets (docs/local-protocol-v2.md, "Negotiation").
      if (bus.version >= 2) for (const name of this.adapters.keys()) bus.send({ type: "NAMESPACE", namespace: name });
      for (const adapter of this.adapters.values()) adapter.resync();
      if (bus.version >= 2 && this.asksRegistryFilter) this.askForRegistryFilter();
    });
    // When a session ends busd settles its ids itself (a restart forgets
    // them; a dropped link counts the node's sockets as gone): ours go too.
    bus.on("down", () => this.acks.clear());
    bus.on("frame", (frame) => this.route(frame));
  }

  /**
   * CLUSTER_REQUEST kind 10: busd may then drop, before decoding, a broadcast
   * for a namespace or room where no socket of this node is (its registry
   * knows them from SOCKET_CONNECT / ROOMS_JOIN). Safe because a join is in
   * the socket before join() returns (adapter.addAll, BusConnection.flush).
   * Sent after the resync, so busd filters only once it has every socket. A
   * busd that does not know the kind answers ERROR 6: the reply then times
   * out and `registryFilter` stays false.
   */
  askForRegistryFilter() {
    const id = this.requests.allocate();
    this.registryFilter = false;
    this.requests.expectReply(id, 0, (status, body) => {
      this.registryFilter = status === REPLY_STATUS.COMPLETE && body !== null && typeof body === "object" && body.filters === true;
    });
    const frame = { type: "CLUSTER_REQUEST", request: id, kind: REQUEST_KINDS.REGISTRY_FILTER, namespace: "/", timeoutMs: 0, body: undefined };
    if (!this.bus.send(frame)) this.requests.settle(id, REPLY_STATUS.FAILED, undefined);
  }

  attach(adapter) {
    this.adapters.set(adapter.nsp.name, adapter);
    // A namespace created while the session is up is announced at once, before its sockets.
    if (this.bus.version >= 2) this.bus.send({ type: "NAMESPACE", namespace: adapter.nsp.name });
    this.bus.start();
  }

  detach(adapter) {
    if (this.adapters.get(adapter.nsp.name) === adapter) this.adapters.delete(adapter.nsp.name);
    if (this.adapters.size > 0) return Promise.resolve();
    this.acks.stop();
    this.requests.clear();
    return this.bus.close();
  }

  route(frame) {
    switch (frame.type) {
      case "CLUSTER_REPLY":
        if (!this.requests.settle(frame.request, frame.status, frame.body)) this.counters.lateReplies++;
        return;
      case "ACK_COUNT":
        if (!this.requests.ackCount(frame.request, frame.clientCount)) this.counters.lateReplies++;
        return;
      case "ACK_ARGUMENT":
        if (!this.requests.ackArgument(frame.request, frame.argument)) this.counters.lateReplies++;
        return;
    }
    const adapter = this.adapters.get(frame.namespace);
    if (!adapter) {
      this.counters.unknownNamespaces++;
      // busd waits for these: said at once that nothing here answers or was written to.
      if (frame.type === "QUESTION") this.bus.send({ type: "ANSWER", request: frame.request, status: 1, body: undefined });
      if (frame.type === "DELIVER_TO_ROOMS" && frame.ackId !== 0) {
        this.bus.send({ type: "DELIVERED", ackId: frame.ackId, namespace: frame.namespace, socketIds: [] });
      }
      return;
    }
    const incoming = adapter.incoming;
    switch (frame.type) {
      case "DELIVER": return incoming.deliver(frame);
      case "DELIVER_TO_ROOMS": return incoming.deliverToRooms(frame);
      case "APPLY": return incoming.apply(frame);
      case "QUESTION": return incoming.question(frame);
      case "SOCKETS_JOIN": return incoming.forEachLocal(frame.socketIds, (socket) => socket.join(frame.rooms));
      case "SOCKETS_LEAVE": return incoming.forEachLocal(frame.socketIds, (socket) => frame.rooms.forEach((room) => socket.leave(room)));
      case "SOCKETS_DISCONNECT": return incoming.forEachLocal(frame.socketIds, (socket) => socket.disconnect(frame.close));
      case "SERVER_SIDE_EMIT": return incoming.serverSideEmit(frame.data);
    }
  }

  stats() {
    return {
      ...this.bus.stats(),
      ...this.counters,
      pendingAcks: this.acks.size,
      pendingRequests: this.requests.size,
      namespaces: [...this.adapters.keys()],
      registryFilter: this.registryFilter,
    };
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
