"use strict";
// The local protocol's frames (docs/local-protocol.md, version 1, and
// docs/local-protocol-v2.md, version 2): `length:u32be type:u8 body`,
// big-endian integers, u16-prefixed UTF-8 strings, u32-prefixed blobs,
// u32-counted lists, and (v2) typed rooms: tag 0 + string or tag 1 + f64.
//
// A frame is a plain object `{ type: "DELIVER", ...fields }`. u64 fields are
// Numbers (busd's ack ids stay below 2^53), except PING/PONG tokens, which
// are BigInts so that a PONG echoes any token exactly.

const { isUtf8 } = require("node:buffer");

/** The newest version this connector speaks (HELLO), and every one it accepts in WELCOME. */
const VERSION = 2;
const VERSIONS = [1, 2];
const MAX_LENGTH = 16 * 1024 * 1024;

const TYPES = {
  HELLO: 0x01,
  WELCOME: 0x02,
  ERROR: 0x03,
  PING: 0x04,
  PONG: 0x05,
  SOCKET_CONNECT: 0x10,
  SOCKET_DISCONNECT: 0x11,
  SOCKET_JOIN: 0x12,
  SOCKET_LEAVE: 0x13,
  BROADCAST: 0x14,
  DELIVER: 0x20,
  ACKED: 0x21,
  SOCKETS_JOIN: 0x22,
  SOCKETS_LEAVE: 0x23,
  SOCKETS_DISCONNECT: 0x24,
  SERVER_SIDE_EMIT: 0x25,
  // version 2
  NAMESPACE: 0x15,
  ROOMS_JOIN: 0x16,
  ROOMS_LEAVE: 0x17,
  ROOMS_BROADCAST: 0x18,
  DELIVERED: 0x19,
  ANSWER: 0x1a,
  CLUSTER_REQUEST: 0x1b,
  BROADCAST_WITH_ACK: 0x1c,
  DELIVER_TO_ROOMS: 0x26,
  APPLY: 0x27,
  QUESTION: 0x28,
  CLUSTER_REPLY: 0x29,
  ACK_COUNT: 0x2a,
  ACK_ARGUMENT: 0x2b,
};
/** The frame types added in version 2 (an error on a v1 session). */
const V2_TYPES = new Set([
  "NAMESPACE", "ROOMS_JOIN", "ROOMS_LEAVE", "ROOMS_BROADCAST", "DELIVERED", "ANSWER", "CLUSTER_REQUEST",
  "BROADCAST_WITH_ACK", "DELIVER_TO_ROOMS", "APPLY", "QUESTION", "CLUSTER_REPLY", "ACK_COUNT", "ACK_ARGUMENT",
]);

/** CLUSTER_REQUEST kinds (the adapter call the node's application made). */
const REQUEST_KINDS = {
  SERVER_COUNT: 1, FETCH_SOCKETS: 2, ALL_ROOMS: 3, ADD_SOCKETS: 4, DEL_SOCKETS: 5,
  DISCONNECT_SOCKETS: 6, SERVER_SIDE_EMIT: 7, SERVER_SIDE_EMIT_WITH_ACK: 8,
  // Not an adapter call: join() waits until busd has its new rooms' channels subscribed.
  ROOMS_SUBSCRIBED: 9,
};
/** CLUSTER_REPLY status. */
const REPLY_STATUS = { COMPLETE: 0, TIMED_OUT: 1, FAILED: 2 };
/** QUESTION kinds and ANSWER status. */
const QUESTION_KINDS = { FETCH: 1, SERVER_SIDE_EMIT: 2, CUSTOM: 3 };
const ANSWER_STATUS = { ANSWERED: 0, CANNOT_ANSWER: 1 };
/** APPLY ops. */
const APPLY_OPS = { JOIN: 1, LEAVE: 2, DISCONNECT: 3 };
const NAMES = new Map(Object.entries(TYPES).map(([name, byte]) => [byte, name]));

const ERROR_CODES = {
  MALFORMED: 1,
  UNSUPPORTED_VERSION: 2,
  UNEXPECTED: 3,
  TOO_LARGE: 4,
  SHUTTING_DOWN: 5,
  // busd could not use one well-formed frame (a BROADCAST packet it cannot
  // decode, say): that frame was skipped, the connection stays.
  UNUSABLE_CONTENT: 6,
  TOO_MANY_CONNECTIONS: 7,
  HANDSHAKE_TIMEOUT: 8,
};

const ACK_STATUS = { DELIVERED: 1, TIMEOUT: 2, DISCONNECTED: 3 };

// Each frame type's body, in order. Field kinds: u8, u16, u32, u64 (Number),
// token (u64 as BigInt), bool (u8), flags (u8 <-> {volatile, compress}),
// string, strings, blob, blobs, json (a blob holding a JSON array, which the
// protocol requires of ACKED; SERVER_SIDE_EMIT's JSON is left to the adapter),
// value (v2: a blob holding any JSON value, empty for `undefined`), rooms
// (v2: count + typed rooms; a number is a numeric room, anything else a name).
const LAYOUTS = {
  HELLO: [["version", "u16"], ["node", "string"], ["pid", "u32"]],
  WELCOME: [["version", "u16"], ["uid", "string"], ["nodeId", "string"], ["ackIdBase", "u64"], ["ackTimeoutMs", "u32"]],
  ERROR: [["code", "u16"], ["message", "string"]],
  PING: [["token", "token"]],
  PONG: [["token", "token"]],
  SOCKET_CONNECT: [["namespace", "string"], ["socketId", "string"], ["connectedAt", "u64"]],
  SOCKET_DISCONNECT: [["namespace", "string"], ["socketId", "string"], ["reason", "string"]],
  SOCKET_JOIN: [["namespace", "string"], ["socketId", "string"], ["rooms", "strings"]],
  SOCKET_LEAVE: [["namespace", "string"], ["socketId", "string"], ["rooms", "strings"]],
  BROADCAST: [
    ["namespace", "string"], ["flags", "flags"], ["rooms", "strings"], ["except", "strings"],
    ["packet", "blob"], ["attachments", "blobs"],
  ],
  DELIVER: [
    ["ackId", "u64"], ["flags", "flags"], ["namespace", "string"], ["socketIds", "strings"],
    ["packet", "blob"], ["attachments", "blobs"],
  ],
  ACKED: [["ackId", "u64"], ["socketId", "string"], ["status", "status"], ["arguments", "json"]],
  SOCKETS_JOIN: [["namespace", "string"], ["socketIds", "strings"], ["rooms", "strings"]],
  SOCKETS_LEAVE: [["namespace", "string"], ["socketIds", "strings"], ["rooms", "strings"]],
  SOCKETS_DISCONNECT: [["namespace", "string"], ["socketIds", "strings"], ["close", "bool"]],
  SERVER_SIDE_EMIT: [["namespace", "string"], ["data", "blob"]],
  NAMESPACE: [["namespace", "string"]],
  ROOMS_JOIN: [["namespace", "string"], ["socketId", "string"], ["rooms", "rooms"]],
  ROOMS_LEAVE: [["namespace", "string"], ["socketId", "string"], ["rooms", "rooms"]],
  ROOMS_BROADCAST: [
    ["namespace", "string"], ["flags", "flags"], ["rooms", "rooms"], ["except", "rooms"],
    ["packet", "blob"], ["attachments", "blobs"],
  ],
  DELIVERED: [["ackId", "u64"], ["namespace", "string"], ["socketIds", "strings"]],
  ANSWER: [["request", "u32"], ["status", "u8"], ["body", "value"]],
  CLUSTER_REQUEST: [["request", "u32"], ["kind", "u8"], ["namespace", "string"], ["timeoutMs", "u32"], ["body", "value"]],
  BROADCAST_WITH_ACK: [
    ["request", "u32"], ["namespace", "string"], ["flags", "flags"], ["rooms", "rooms"], ["except", "rooms"],
    ["timeoutMs", "u32"], ["packet", "blob"], ["attachments", "blobs"],
  ],
  DELIVER_TO_ROOMS: [
    ["ackId", "u64"], ["flags", "flags"], ["namespace", "string"], ["rooms", "rooms"], ["except", "rooms"],
    ["packet", "blob"], ["attachments", "blobs"],
  ],
  APPLY: [["op", "u8"], ["namespace", "string"], ["rooms", "rooms"], ["except", "rooms"], ["targets", "rooms"], ["close", "bool"]],
  QUESTION: [["request", "u32"], ["kind", "u8"], ["namespace", "string"], ["body", "value"]],
  CLUSTER_REPLY: [["request", "u32"], ["status", "u8"], ["body", "value"]],
  ACK_COUNT: [["request", "u32"], ["clientCount", "u32"]],
  ACK_ARGUMENT: [["request", "u32"], ["argument", "value"]],
};

/** A frame that breaks the protocol; `code` is the ERROR frame's code. */
class ProtocolError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

function malformed(message) {
  return new ProtocolError(ERROR_CODES.MALFORMED, message);
}

// ---- flags byte: bit 0 volatile, bit 1 compress given, bit 2 its value ----

function flagsToByte(flags = {}) {
  let byte = flags.volatile ? 1 : 0;
  if (flags.compress !== undefined && flags.compress !== null) byte |= flags.compress ? 6 : 2;
  return byte;
}

function flagsFromByte(byte) {
  return { volatile: (byte & 1) !== 0, compress: (byte & 2) !== 0 ? (byte & 4) !== 0 : undefined };
}

// ---- encoding ----

function asBuffer(value) {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  throw new TypeError(`expected a string or bytes, got ${typeof value}`);
}

// Turns the frame's fields into what the writer copies: strings become
// Buffers once, so the size is known before the one allocation.
function prepare(kind, value, name) {
  switch (kind) {
    case "string": {
      const bytes = Buffer.from(String(value), "utf8");
      if (bytes.length > 0xffff) throw new RangeError(`${name}: a string holds at most 65535 bytes`);
      return bytes;
    }
    case "strings":
      return Array.from(value || [], (item) => prepare("string", item, name));
    case "blob":
      return asBuffer(value);
    case "blobs":
      return Array.from(value || [], asBuffer);
    case "json":
      return Buffer.from(typeof value === "string" || Buffer.isBuffer(value) ? value : JSON.stringify(value), "utf8");
    case "value": {
      // JSON.stringify gives undefined for undefined (and functions): an empty blob.
      const text = value === undefined ? undefined : JSON.stringify(value);
      return text === undefined ? Buffer.alloc(0) : Buffer.from(text, "utf8");
    }
    case "rooms":
      return Array.from(value || [], (room) => {
        if (typeof room !== "number") return { name: prepare("string", room, name) };
        // socket.io's numeric rooms are finite; the protocol has no NaN or infinite room.
        if (!Number.isFinite(room)) throw new RangeError(`${name}: a numeric room must be finite, not ${room}`);
        return { number: room };
      });
    default:
      return value;
  }
}

function sizeOf(kind, prepared) {
  switch (kind) {
    case "u8": case "bool": case "flags": case "status": return 1;
    case "u16": return 2;
    case "u32": return 4;
    case "u64": case "token": return 8;
    case "string": return 2 + prepared.length;
    case "blob": case "json": case "value": return 4 + prepared.length;
    case "rooms": return prepared.reduce((n, room) => n + 1 + (room.name ? 2 + room.name.length : 8), 4);
    case "strings": return prepared.reduce((n, s) => n + 2 + s.length, 4);
    case "blobs": return prepared.reduce((n, b) => n + 4 + b.length, 4);
    default: throw new Error(`unknown field kind ${kind}`);
  }
}

function writeField(buf, at, kind, v) {
  switch (kind) {
    case "u8": case "status": return buf.writeUInt8(v, at);
    case "bool": return buf.writeUInt8(v ? 1 : 0, at);
    case "flags": return buf.writeUInt8(typeof v === "number" ? v : flagsToByte(v), at);
    case "u16": return buf.writeUInt16BE(v, at);
    case "u32": return buf.writeUInt32BE(v, at);
    case "u64": case "token": return buf.writeBigUInt64BE(BigInt(v), at);
    case "string":
      at = buf.writeUInt16BE(v.length, at);
      return at + v.copy(buf, at);
    case "blob": case "json": case "value":
      at = buf.writeUInt32BE(v.length, at);
      return at + v.copy(buf, at);
    case "rooms":
      at = buf.writeUInt32BE(v.length, at);
      for (const room of v) {
        if (room.name) {
          at = buf.writeUInt8(0, at);
          at = writeField(buf, at, "string", room.name);
        } else {
          at = buf.writeUInt8(1, at);
          at = buf.writeDoubleBE(room.number, at);
        }
      }
      return at;
    case "strings": case "blobs":
      at = buf.writeUInt32BE(v.length, at);
      for (const item of v) at = writeField(buf, at, kind === "strings" ? "string" : "blob", item);
      return at;
    default:
      throw new Error(`unknown field kind ${kind}`);
  }
}

/** Encodes one frame (length prefix included) into a new Buffer. */
function encodeFrame(frame) {
  const layout = LAYOUTS[frame.type];
  if (!layout) throw new TypeError(`unknown frame type ${frame.type}`);
  const values = layout.map(([name, kind]) => prepare(kind, frame[name], name));
  let length = 1;
  layout.forEach(([, kind], i) => (length += sizeOf(kind, values[i])));
  if (length > MAX_LENGTH) throw new RangeError(`${frame.type} frame of ${length} bytes exceeds 16 MiB`);
  const buf = Buffer.allocUnsafe(4 + length);
  let at = buf.writeUInt32BE(length, 0);
  at = buf.writeUInt8(TYPES[frame.type], at);
  layout.forEach(([, kind], i) => (at = writeField(buf, at, kind, values[i])));
  return buf;
}

// ---- decoding ----

/** Reads one frame body (type byte first); every byte must be consumed. */
class BodyReader {
  constructor(buf) {
    this.buf = buf;
    this.at = 0;
  }

  remaining() {
    return this.buf.length - this.at;
  }

  take(n, what) {
    if (n > this.remaining()) {
      throw malformed(`${what} needs ${n} bytes at body offset ${this.at}, ${this.remaining()} left`);
    }
    const start = this.at;
    this.at += n;
    return start;
  }

  read(kind, what) {
    const buf = this.buf;
    switch (kind) {
      case "u8": case "bool": case "flags": case "status": {
        const byte = buf[this.take(1, what)];
        if (kind === "bool") return byte !== 0;
        if (kind === "flags") return flagsFromByte(byte);
        if (kind === "status" && (byte < 1 || byte > 3)) throw malformed(`ack status ${byte} is not 1, 2 or 3`);
        return byte;
      }
      case "u16": return buf.readUInt16BE(this.take(2, what));
      case "u32": return buf.readUInt32BE(this.take(4, what));
      case "token": return buf.readBigUInt64BE(this.take(8, what));
      case "u64": {
        const value = buf.readBigUInt64BE(this.take(8, what));
        // Refused rather than rounded: a rounded ack id would ack the wrong message.
        if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(`${what} ${value} is above 2^53-1`);
        return Number(value);
      }
      case "string": {
        const n = this.read("u16", what);
        const start = this.take(n, what);
        const bytes = buf.subarray(start, start + n);
        if (!isUtf8(bytes)) throw malformed(`${what} is not valid UTF-8`);
        return bytes.toString("utf8");
      }
      case "blob": {
        const n = this.read("u32", what);
        const start = this.take(n, what);
        return buf.subarray(start, start + n);
      }
      case "json": {
        const bytes = this.read("blob", what);
        let value;
        try {
          value = JSON.parse(bytes.toString("utf8"));
        } catch {
          throw malformed(`${what} is not JSON`);
        }
        if (!Array.isArray(value)) throw malformed(`${what} is not a JSON array`);
        return value;
      }
      case "value": {
        const bytes = this.read("blob", what);
        if (bytes.length === 0) return undefined;
        try {
          return JSON.parse(bytes.toString("utf8"));
        } catch {
          throw malformed(`${what} is not JSON`);
        }
      }
      case "rooms": {
        const count = this.read("u32", what);
        // The shortest room is a tag and an empty string: 3 bytes.
        if (count > Math.floor(this.remaining() / 3)) throw malformed(`${what} announces ${count} rooms, more than the frame holds`);
        const rooms = new Array(count);
        for (let i = 0; i < count; i++) {
          const tag = this.read("u8", what);
          if (tag === 0) rooms[i] = this.read("string", what);
          else if (tag === 1) {
            rooms[i] = buf.readDoubleBE(this.take(8, what));
            if (!Number.isFinite(rooms[i])) throw malformed(`${what}: a numeric room is ${rooms[i]}`);
          }
          else throw malformed(`${what}: room tag ${tag} is not 0 or 1`);
        }
        return rooms;
      }
      case "strings": case "blobs": {
        const count = this.read("u32", what);
        const least = kind === "strings" ? 2 : 4;
        if (count > Math.floor(this.remaining() / least)) {
          throw malformed(`${what} announces ${count} items, more than the frame holds`);
        }
        const items = new Array(count);
        for (let i = 0; i < count; i++) items[i] = this.read(kind === "strings" ? "string" : "blob", what);
        return items;
      }
      default:
        throw new Error(`unknown field kind ${kind}`);
    }
  }
}

/** Decodes one frame body (type byte + fields, without the length prefix). */
function decodeBody(body) {
  const reader = new BodyReader(body);
  const typeByte = reader.read("u8", "type");
  const type = NAMES.get(typeByte);
  if (!type) throw malformed(`unknown frame type 0x${typeByte.toString(16)}`);
  const frame = { type };
  for (const [name, kind] of LAYOUTS[type]) frame[name] = reader.read(kind, name);
  if (type === "APPLY" && (frame.op < 1 || frame.op > 3)) throw malformed(`APPLY op ${frame.op} is not 1, 2 or 3`);
  if (reader.remaining() !== 0) throw malformed(`${reader.remaining()} bytes left after the body of ${type}`);
  return frame;
}

/**
 * Cuts a byte stream into frames. Feed it whatever a read returned with
 * `push`, then call `next()` until it returns null. Chunks are only joined
 * once a whole frame is there, so a large frame arriving in many small reads
 * costs one copy; the length prefix is checked before anything is buffered
 * beyond it.
 */
class FrameDecoder {
  constructor() {
    this.chunks = [];
    this.buffered = 0;
  }

  push(chunk) {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next frame, or null when more bytes are needed; throws ProtocolError. */
  next() {
    if (this.buffered < 4) return null;
    const length = this.peekLength();
    if (length < 1 || length > MAX_LENGTH) {
      throw new ProtocolError(ERROR_CODES.TOO_LARGE, `frame length ${length} is outside 1...${MAX_LENGTH}`);
    }
    if (this.buffered < 4 + length) return null;
    const frameBytes = this.consume(4 + length);
    return decodeBody(frameBytes.subarray(4));
  }

  peekLength() {
    const first = this.chunks[0];
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.alloc(4);
    let filled = 0;
    for (const chunk of this.chunks) {
      filled += chunk.copy(head, filled, 0, Math.min(chunk.length, 4 - filled));
      if (filled === 4) break;
    }
    return head.readUInt32BE(0);
  }

  consume(n) {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const part = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, part);
      filled += part;
      if (part === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    return out;
  }
}

/** A ROOMS_BROADCAST as version 1's BROADCAST (rooms as names). */
function toV1Broadcast(frame) {
  return { ...frame, type: "BROADCAST", rooms: Array.from(frame.rooms || [], String), except: Array.from(frame.except || [], String) };
}

module.exports = {
  toV1Broadcast,
  VERSION,
  VERSIONS,
  V2_TYPES,
  REQUEST_KINDS,
  REPLY_STATUS,
  QUESTION_KINDS,
  ANSWER_STATUS,
  APPLY_OPS,
  MAX_LENGTH,
  TYPES,
  ERROR_CODES,
  ACK_STATUS,
  ProtocolError,
  encodeFrame,
  decodeBody,
  FrameDecoder,
  flagsToByte,
  flagsFromByte,
};
