"use strict";
// socket.io-adapter 2.5.5's in-memory adapter, as the connector's base: the
// rooms of this node's sockets (authoritative for every delivery to them),
// the selection rule (any of `rooms`, all when empty, minus any socket in a
// room of `except`), the pre-encoded WebSocket frame of a broadcast, and,
// when the server has connectionStateRecovery, the SessionAwareAdapter's
// offsets, sessions and missed packets.

const { EventEmitter } = require("node:events");
const { isUtf8 } = require("node:buffer");
const { WirePackets } = require("./wire-packets");
const { SessionStore } = require("./sessions");

let wsFrame; // ws's Sender.frame, once looked up (null: not available)

function loadWsFrame() {
  if (wsFrame !== undefined) return wsFrame;
  wsFrame = null;
  const path = require("node:path");
  const attempts = [() => require("ws")];
  for (const from of ["engine.io", "socket.io-adapter"]) {
    attempts.push(() => require(require.resolve("ws", { paths: [path.dirname(require.resolve(from))] })));
  }
  for (const attempt of attempts) {
    try {
      const ws = attempt();
      if (ws && ws.Sender && typeof ws.Sender.frame === "function") {
        wsFrame = ws.Sender.frame.bind(ws.Sender);
        break;
      }
    } catch {}
  }
  return wsFrame;
}

/**
 * A final, unmasked WebSocket text frame (RFC 6455 5.2) whose payload is
 * "4" (engine.io's message packet type) and `bytes`, in one buffer.
 */
function textFrame(bytes) {
  const length = 1 + bytes.length;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (head === 2) frame[1] = length;
  else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6); // frames stay under 16 MiB (the local protocol's bound)
  }
  frame[head] = 0x34;
  if (bytes.length <= 64) for (let i = 0; i < bytes.length; i++) frame[head + 1 + i] = bytes[i];
  else frame.set(bytes, head + 1);
  return frame;
}

function sizeOf(rooms) {
  if (!rooms) return 0;
  return rooms.size !== undefined ? rooms.size : rooms.length;
}

class LocalAdapter extends EventEmitter {
  constructor(nsp) {
    super();
    this.nsp = nsp;
    this.rooms = new Map();
    this.sids = new Map();
    this.encoder = nsp.server.encoder;
    this.packets = new WirePackets(this.encoder);
    const recovery = nsp.server.opts && nsp.server.opts.connectionStateRecovery;
    this.sessions = recovery ? new SessionStore(recovery.maxDisconnectionDuration) : null;
  }

  // ---- rooms (socket.io-adapter's Adapter) ----

  /** Returns the rooms newly joined. */
  addLocal(id, rooms) {
    let joined = this.sids.get(id);
    if (!joined) this.sids.set(id, (joined = new Set()));
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
    return added;
  }

  /** Returns whether the socket was in the room. */
  delLocal(id, room) {
    const joined = this.sids.get(id);
    const was = Boolean(joined && joined.delete(room));
    this._del(room, id);
    return was;
  }

  _del(room, id) {
    const members = this.rooms.get(room);
    if (!members) return;
    if (members.delete(id)) this.emit("leave-room", room, id);
    if (members.size === 0 && this.rooms.delete(room)) this.emit("delete-room", room);
  }

  delAllLocal(id) {
    const joined = this.sids.get(id);
    if (!joined) return false;
    for (const room of joined) this._del(room, id);
    this.sids.delete(id);
    return true;
  }

  socketRooms(id) {
    return this.sids.get(id);
  }

  sockets(rooms) {
    const ids = new Set();
    this.apply({ rooms }, (socket) => ids.add(socket.id));
    return Promise.resolve(ids);
  }

  apply(opts, callback) {
    const rooms = opts.rooms;
    // No Set when nothing is excepted (a broadcast's usual case).
    const except = sizeOf(opts.except) > 0 ? this.computeExceptSids(opts.except) : null;
    const sockets = this.nsp.sockets;
    if (sizeOf(rooms) > 0) {
      const ids = new Set();
      for (const room of rooms) {
        const members = this.rooms.get(room);
        if (!members) continue;
        for (const id of members) {
          if (ids.has(id) || (except !== null && except.has(id))) continue;
          const socket = sockets.get(id);
          if (socket) {
            callback(socket);
            ids.add(id);
          }
        }
      }
    } else {
      for (const id of this.sids.keys()) {
        if (except !== null && except.has(id)) continue;
        const socket = sockets.get(id);
        if (socket) callback(socket);
      }
    }
  }

  /**
   * As apply, for a delivery (the callback writes, it does not join or
   * leave): with one room its members are distinct, so no Set of the ids
   * already written is built.
   */
  forEachTarget(opts, callback) {
    const rooms = opts.rooms;
    if (sizeOf(rooms) !== 1) return this.apply(opts, callback);
    let room;
    for (room of rooms) break;
    const members = this.rooms.get(room);
    if (!members) return;
    const except = sizeOf(opts.except) > 0 ? this.computeExceptSids(opts.except) : null;
    const sockets = this.nsp.sockets;
    for (const id of members) {
      if (except !== null && except.has(id)) continue;
      const socket = sockets.get(id);
      if (socket) callback(socket);
    }
  }

  computeExceptSids(exceptRooms) {
    const ids = new Set();
    if (sizeOf(exceptRooms) === 0) return ids;
    for (const room of exceptRooms) {
      const members = this.rooms.get(room);
      if (members) members.forEach((id) => ids.add(id));
    }
    return ids;
  }

  // ---- local delivery ----

  /** The write options of a broadcast, with the pre-computed WebSocket frame where the in-memory adapter makes one (as it does). */
  writeOptions(flags, encoded) {
    const options = { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
    const frame = encoded.length === 1 && typeof encoded[0] === "string" ? loadWsFrame() : null;
    // "4": engine.io's message packet type.
    if (frame) options.wsPreEncodedFrame = frame(Buffer.from("4" + encoded[0]), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
    return options;
  }

  /**
   * The write options of a packet from busd (`encoded`: its string and
   * attachments, `packetBytes`: busd's bytes of the string). Its WebSocket frame is built in one buffer: the
   * bytes Sender.frame gives as a header and a payload, which ws's sendFrame
   * writes with a cork, two writes and an uncork per socket; one buffer is
   * one write. From busd's bytes when the string holds no U+FFFD (then they
   * were UTF-8, the string's own bytes: decoding replaces every invalid
   * sequence with U+FFFD); otherwise from the string, as a text frame must be
   * valid UTF-8.
   */
  deliveryOptions(flags, encoded, packetBytes) {
    // With attachments there are several packets to write: no frame (as the in-memory adapter).
    if (encoded.length !== 1 || loadWsFrame() === null) return { preEncoded: true, volatile: flags.volatile, compress: flags.compress };
    const text = encoded[0];
    const bytes = text.indexOf("\uFFFD") === -1 || isUtf8(packetBytes) ? packetBytes : Buffer.from(text);
    return { preEncoded: true, volatile: flags.volatile, compress: flags.compress, wsPreEncodedFrame: [textFrame(bytes)] };
  }

  /** Writes an encoded packet to the chosen sockets; `each(socket)` runs first for each. */
  deliverLocal(packet, encoded, opts, each) {
    const writeOptions = this.writeOptions(opts.flags || {}, encoded);
    let count = 0;
    this.apply(opts, (socket) => {
      count++;
      if (each) each(socket);
      if (packet && typeof socket.notifyOutgoingListeners === "function") socket.notifyOutgoingListeners(packet);
      socket.client.writeToEngine(encoded, writeOptions);
    });
    return count;
  }

  /** The offset of connection state recovery, added to a broadcast as SessionAwareAdapter does (null when none). */
  recordForRecovery(packet, opts) {
    if (!this.sessions) return null;
    return this.sessions.record(packet, opts);
  }

  persistSession(session) {
    if (this.sessions) this.sessions.persist(session);
  }

  restoreSession(pid, offset) {
    return this.sessions ? this.sessions.restore(pid, offset) : null;
  }
}

module.exports = { LocalAdapter, loadWsFrame, sizeOf, textFrame };
