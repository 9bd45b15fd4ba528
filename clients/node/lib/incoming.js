"use strict";
// What busd hands one namespace's adapter: other nodes' and emitters'
// broadcasts (DELIVER_TO_ROOMS, chosen by this node's own rooms; v1's DELIVER,
// chosen by busd), their socketsJoin/Leave/disconnectSockets (APPLY; v1's
// SOCKETS_*), serverSideEmit (SERVER_SIDE_EMIT), and the questions only this
// node can answer (QUESTION → ANSWER: fetchSockets details, serverSideEmit
// acks, socket.io-redis 5.x customRequest).

const { QUESTION_KINDS, ANSWER_STATUS, APPLY_OPS } = require("./frames");

function hasOutgoingListeners(socket) {
  return Boolean(socket._anyOutgoingListeners && socket._anyOutgoingListeners.length);
}

/** A socket as @socket.io/redis-adapter 8.3.0 puts it in a REMOTE_FETCH response. */
function fetchedSocket(socket) {
  // sessionStore may hold circular references: left out, as the stock adapter does.
  const { sessionStore, ...handshake } = socket.handshake || {};
  return { id: socket.id, handshake, rooms: [...socket.rooms], data: socket.data };
}

/** The packet as busd sent it, as writeToEngine takes it: the string, then the attachments. */
function asSent(frame) {
  const text = frame.packet.toString(); // UTF-8; without arguments Buffer takes its shortest path
  const attachments = frame.attachments;
  if (attachments.length === 0) return [text];
  const encoded = [text];
  for (let i = 0; i < attachments.length; i++) encoded.push(attachments[i]);
  return encoded;
}

/** One delivery's encoded packet, and its object, decoded at most once when asked for. */
class Prepared {
  constructor(encoded, packets, frame) {
    this.encoded = encoded;
    this.packets = packets;
    this.frame = frame;
    this.decoded = null;
    this.bytes = null; // busd's bytes of encoded[0], when it is them
  }

  packet() {
    if (this.decoded === null && this.packets !== null) {
      this.decoded = this.packets.decode(this.frame.packet, this.frame.attachments);
      this.packets = null;
    }
    return this.decoded;
  }
}

class Incoming {
  constructor(adapter) {
    this.adapter = adapter;
  }

  get counters() {
    return this.adapter.hub.counters;
  }

  /**
   * The packet to write and, when needed, its object: as busd sent it when
   * the server's parser writes socket.io-parser's format; decoded (and
   * encoded with the server's parser) otherwise, or when connection state
   * recovery adds an offset. `opts` is what the offset is kept for.
   * Null when the packet cannot be decoded but has to be.
   */
  prepare(frame, opts) {
    const adapter = this.adapter;
    if (adapter.packets.compatible && !adapter.sessions) {
      // The packet object only for outgoing listeners, decoded on the first one's demand.
      const prepared = new Prepared(asSent(frame), adapter.packets, frame);
      prepared.bytes = frame.packet;
      return prepared;
    }
    const packet = adapter.packets.decode(frame.packet, frame.attachments);
    if (!packet) {
      this.counters.deliveriesUndecodable++;
      return null;
    }
    if (frame.ackId === 0) adapter.recordForRecovery(packet, opts);
    // Re-encoded: with recovery the packet carries its offset now.
    const prepared = new Prepared(adapter.packets.encode(packet), null, null);
    prepared.decoded = packet;
    return prepared;
  }

  /** v1's DELIVER: busd chose the sockets. */
  deliver(frame) {
    const adapter = this.adapter;
    this.counters.deliveries++;
    const targets = [];
    for (const id of frame.socketIds) {
      const socket = adapter.nsp.sockets.get(id);
      if (socket) targets.push(socket);
      else this.counters.missingSockets++;
    }
    const prepared = this.prepare(frame, { rooms: frame.socketIds, except: [], flags: frame.flags });
    if (!prepared) return;
    const writeOptions = this.writeOptions(frame.flags, prepared);
    for (const socket of targets) this.write(socket, frame.ackId, prepared, writeOptions);
  }

  writeOptions(flags, prepared) {
    const adapter = this.adapter;
    return prepared.bytes !== null ? adapter.deliveryOptions(flags, prepared.encoded, prepared.bytes) : adapter.writeOptions(flags, prepared.encoded);
  }

  /** v2's DELIVER_TO_ROOMS: the sockets are chosen here, by this node's rooms, now. */
  deliverToRooms(frame) {
    const adapter = this.adapter;
    this.counters.deliveries++;
    if (frame.ackId === 0 && frame.rooms.length === 1 && frame.except.length === 0 && adapter.packets.compatible && !adapter.sessions) {
      return this.toOneRoom(frame);
    }
    // The selection takes the frame's lists as they are (Sets only where recovery keeps opts).
    const opts = adapter.sessions
      ? { rooms: new Set(frame.rooms), except: new Set(frame.except), flags: frame.flags }
      : { rooms: frame.rooms, except: frame.except, flags: frame.flags };
    const prepared = this.prepare(frame, opts);
    const ackId = frame.ackId;
    const written = ackId !== 0 ? [] : null;
    if (prepared) {
      const writeOptions = this.writeOptions(frame.flags, prepared);
      adapter.forEachTarget(opts, (socket) => {
        this.write(socket, ackId, prepared, writeOptions);
        if (written) written.push(socket.id);
      });
    }
    // busd learns the targets of an acked broadcast (its client count) from this.
    if (written) adapter.send({ type: "DELIVERED", ackId, namespace: adapter.nsp.name, socketIds: written });
  }

  /**
   * The common delivery: one room, nothing excepted, no ack, a packet
   * written as busd sent it. The room's members are walked here, with no
   * selection object or callback, and the packet object is made only for a
   * socket with outgoing listeners.
   */
  toOneRoom(frame) {
    const adapter = this.adapter;
    const members = adapter.rooms.get(frame.rooms[0]);
    if (members === undefined) return;
    const encoded = asSent(frame);
    const writeOptions = adapter.deliveryOptions(frame.flags, encoded, frame.packet);
    const sockets = adapter.nsp.sockets;
    const counters = this.counters;
    let prepared = null;
    for (const id of members) {
      const socket = sockets.get(id);
      if (socket === undefined) continue;
      if (hasOutgoingListeners(socket)) {
        if (prepared === null) prepared = new Prepared(encoded, adapter.packets, frame);
        const packet = prepared.packet();
        if (packet) socket.notifyOutgoingListeners(packet);
      }
      socket.client.writeToEngine(encoded, writeOptions);
      counters.packetsWritten++;
    }
  }

  write(socket, ackId, prepared, writeOptions) {
    if (ackId !== 0) {
      this.adapter.hub.acks.register(socket, ackId);
      this.counters.acksRegistered++;
    }
    if (hasOutgoingListeners(socket)) {
      const packet = prepared.packet();
      if (packet) socket.notifyOutgoingListeners(packet);
    }
    socket.client.writeToEngine(prepared.encoded, writeOptions);
    this.counters.packetsWritten++;
  }

  /** v2's APPLY: socketsJoin / socketsLeave / disconnectSockets, chosen by this node's rooms. */
  apply(frame) {
    const opts = { rooms: new Set(frame.rooms), except: new Set(frame.except) };
    switch (frame.op) {
      case APPLY_OPS.JOIN:
        return this.adapter.apply(opts, (socket) => socket.join(frame.targets));
      case APPLY_OPS.LEAVE:
        return this.adapter.apply(opts, (socket) => frame.targets.forEach((room) => socket.leave(room)));
      case APPLY_OPS.DISCONNECT:
        return this.adapter.apply(opts, (socket) => socket.disconnect(frame.close));
      default:
        this.counters.unknownApplyOps++;
    }
  }

  /** v1's SOCKETS_JOIN / SOCKETS_LEAVE / SOCKETS_DISCONNECT: busd chose the sockets. */
  forEachLocal(ids, callback) {
    for (const id of ids) {
      const socket = this.adapter.nsp.sockets.get(id);
      if (socket) callback(socket);
    }
  }

  serverSideEmit(data) {
    let args;
    try {
      args = JSON.parse(data.toString("utf8"));
    } catch {
      args = null;
    }
    if (!Array.isArray(args) || typeof args[0] !== "string") {
      this.counters.serverSideEmitsRejected++;
      return;
    }
    this.counters.serverSideEmitsReceived++;
    this.adapter.nsp._onServerSideEmit(args);
  }

  question(frame) {
    const session = this.adapter.hub.bus.counters.sessions;
    let answered = false;
    const answer = (status, body) => {
      if (answered) return;
      answered = true;
      // An answer for a previous session's question would meet another request with the same id.
      if (this.adapter.hub.bus.counters.sessions !== session) return;
      try {
        this.adapter.send({ type: "ANSWER", request: frame.request, status, body });
        this.counters.answersSent++;
      } catch (err) {
        // A value JSON or the frame cannot carry (circular, BigInt, over 16 MiB): busd need not wait for it.
        this.counters.answersUnsendable++;
        this.adapter.hub.bus.logger.warn(`cannot send the answer to busd's question ${frame.kind}: ${err && err.message}`);
        this.adapter.send({ type: "ANSWER", request: frame.request, status: ANSWER_STATUS.CANNOT_ANSWER, body: undefined });
      }
    };
    try {
      switch (frame.kind) {
        case QUESTION_KINDS.FETCH:
          return this.answerFetch(frame.body || {}, answer);
        case QUESTION_KINDS.SERVER_SIDE_EMIT:
          return this.answerServerSideEmit(frame.body, answer);
        case QUESTION_KINDS.CUSTOM:
          return this.answerCustom(frame.body, answer);
        default:
          return answer(ANSWER_STATUS.CANNOT_ANSWER, undefined);
      }
    } catch (err) {
      answer(ANSWER_STATUS.CANNOT_ANSWER, undefined);
      throw err;
    }
  }

  answerFetch(body, answer) {
    const sockets = [];
    const opts = { rooms: new Set(body.rooms || []), except: new Set(body.except || []) };
    this.adapter.apply(opts, (socket) => sockets.push(fetchedSocket(socket)));
    answer(ANSWER_STATUS.ANSWERED, sockets);
  }

  /** The handlers run with an ack function; its first call answers ([arg], [] without one). */
  answerServerSideEmit(args, answer) {
    const nsp = this.adapter.nsp;
    if (!Array.isArray(args) || typeof args[0] !== "string") {
      this.counters.serverSideEmitsRejected++;
      return answer(ANSWER_STATUS.CANNOT_ANSWER, undefined);
    }
    this.counters.serverSideEmitsReceived++;
    // No handler: a stock node would never answer; busd need not wait.
    const noHandler = typeof nsp.listenerCount === "function" && nsp.listenerCount(args[0]) === 0;
    args.push((arg) => answer(ANSWER_STATUS.ANSWERED, arg === undefined ? [] : [arg]));
    nsp._onServerSideEmit(args);
    if (noHandler) answer(ANSWER_STATUS.CANNOT_ANSWER, undefined);
  }

  /** socket.io-redis 5.x customRequest: the `customHook(data, cb)` option (or adapter.customHook). */
  answerCustom(data, answer) {
    const hook = this.adapter.hub.customHook || this.adapter.customHook;
    if (typeof hook !== "function") return answer(ANSWER_STATUS.CANNOT_ANSWER, undefined);
    hook.call(this.adapter, data, (result) => answer(ANSWER_STATUS.ANSWERED, result));
  }
}

module.exports = { Incoming, fetchedSocket };
