"use strict";
// A stand-in for the parts of socket.io 4.8 an adapter touches (there is no
// socket.io package on this machine). It follows socket.io's own code paths:
// Namespace instantiates `new (server.adapter())(nsp)`, a socket joins its
// own id room on connect, `_onclose` emits "disconnecting" and then calls
// `adapter.delAll`, acks are looked up in `socket.acks` and applied with the
// client's arguments, broadcasts pass a `{ type: 2, data }` packet.

const { EventEmitter } = require("node:events");
const { randomBytes } = require("node:crypto");

/** Debian's socket.io-parser 4.2 when installed, else a small equivalent. */
function makeEncoder() {
  for (const where of ["socket.io-parser", "/usr/share/nodejs/socket.io-parser"]) {
    try {
      const parser = require(where);
      return new parser.Encoder();
    } catch {}
  }
  return new MiniEncoder();
}

class MiniEncoder {
  encode(packet) {
    const buffers = [];
    const data = deconstruct(packet.data, buffers);
    let type = packet.type;
    if (buffers.length > 0 && type === 2) type = 5;
    if (buffers.length > 0 && type === 3) type = 6;
    let out = String(type);
    if (type === 5 || type === 6) out += `${buffers.length}-`;
    if (packet.nsp && packet.nsp !== "/") out += `${packet.nsp},`;
    if (packet.id !== undefined && packet.id !== null) out += packet.id;
    if (data !== undefined) out += JSON.stringify(data);
    return [out, ...buffers];
  }
}

function deconstruct(value, buffers) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer) {
    buffers.push(value);
    return { _placeholder: true, num: buffers.length - 1 };
  }
  if (Array.isArray(value)) return value.map((item) => deconstruct(item, buffers));
  if (value && typeof value === "object") {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = deconstruct(item, buffers);
    return out;
  }
  return value;
}

class FakeClient {
  constructor() {
    this.writes = [];
    this.sockets = new Set();
    this.closed = false;
    this.conn = { transport: { writable: true }, protocol: 4 };
  }

  writeToEngine(packets, opts) {
    this.writes.push({ packets: [...packets], opts: { ...opts } });
  }

  _disconnect() {
    for (const socket of this.sockets) socket._onclose("server namespace disconnect");
    this.closed = true;
  }
}

class FakeSocket extends EventEmitter {
  constructor(nsp, client, id) {
    super();
    this.nsp = nsp;
    this.server = nsp.server;
    this.client = client;
    this.id = id || randomBytes(15).toString("base64url").slice(0, 20);
    this.adapter = nsp.adapter;
    this.acks = new Map();
    this.connected = false;
    client.sockets.add(this);
  }

  get rooms() {
    return this.adapter.socketRooms(this.id) || new Set();
  }

  /** Packet strings written to this socket's engine, in order. */
  get written() {
    return this.client.writes.flatMap((write) => write.packets);
  }

  join(rooms) {
    return this.adapter.addAll(this.id, new Set(Array.isArray(rooms) ? rooms : [rooms]));
  }

  leave(room) {
    return this.adapter.del(this.id, room);
  }

  _onconnect() {
    this.connected = true;
    this.join(this.id);
  }

  _onclose(reason) {
    if (!this.connected) return this;
    this.emit("disconnecting", reason);
    this.adapter.delAll(this.id);
    this.nsp._remove(this);
    this.join = () => {};
    this.client.sockets.delete(this);
    this.connected = false;
    this.emit("disconnect", reason);
    return this;
  }

  disconnect(close = false) {
    if (!this.connected) return this;
    if (close) this.client._disconnect();
    else this._onclose("server namespace disconnect");
    return this;
  }

  /** The client answers ack `id` (what socket.io's onack does). */
  clientAck(id, args) {
    const ack = this.acks.get(id);
    if (typeof ack !== "function") return false;
    ack.apply(this, args);
    this.acks.delete(id);
    return true;
  }
}

class FakeNamespace {
  constructor(server, name) {
    this.server = server;
    this.name = name;
    this.sockets = new Map();
    this._preConnectSockets = new Map();
    this._ids = 0;
    this.serverSideEmits = [];
    this._initAdapter();
  }

  _initAdapter() {
    this.adapter = new (this.server.adapter())(this);
    Promise.resolve(this.adapter.init()).catch(() => {});
  }

  /** A client connects to this namespace (optionally with a given socket id). */
  connect(id) {
    const socket = new FakeSocket(this, new FakeClient(), id);
    this.sockets.set(socket.id, socket);
    socket._onconnect();
    return socket;
  }

  _remove(socket) {
    this.sockets.delete(socket.id) || this._preConnectSockets.delete(socket.id);
  }

  _onServerSideEmit(args) {
    this.serverSideEmits.push(args);
  }

  /** What `io.to(rooms).except(except).emit(...)` hands the adapter. */
  emit(data, { rooms = [], except = [], flags = {} } = {}) {
    this.adapter.broadcast({ type: 2, data }, { rooms: new Set(rooms), except: new Set(except), flags });
  }
}

class FakeServer {
  constructor(adapterClass) {
    this.encoder = makeEncoder();
    this._adapter = adapterClass;
    this._nsps = new Map();
  }

  adapter(value) {
    if (value === undefined) return this._adapter;
    this._adapter = value;
    for (const nsp of this._nsps.values()) nsp._initAdapter();
    return this;
  }

  of(name) {
    if (!this._nsps.has(name)) this._nsps.set(name, new FakeNamespace(this, name));
    return this._nsps.get(name);
  }

  /** What io.close() does: sockets close, then each adapter. */
  async close() {
    for (const nsp of this._nsps.values()) {
      for (const socket of [...nsp.sockets.values()]) socket._onclose("server shutting down");
      await nsp.adapter.close();
    }
  }
}

module.exports = { FakeServer, FakeNamespace, FakeSocket, FakeClient, makeEncoder, MiniEncoder };
