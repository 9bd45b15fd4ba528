"use strict";
// The local protocol's frames (docs/local-protocol.md, version 1):
// `length:u32be type:u8 body`, big-endian integers, u16-prefixed UTF-8
// strings, u32-prefixed blobs, u32-counted lists.
//
// A frame is a plain object `{ type: "DELIVER", ...fields }`. u64 fields are
// Numbers (busd's ack ids stay below 2^53), except PING/PONG tokens, which
// are BigInts so that a PONG echoes any token exactly.

const { isUtf8 } = require("node:buffer");

const VERSION = 1;
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
};
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
// protocol requires of ACKED; SERVER_SIDE_EMIT's JSON is left to the adapter).
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
    case "blob": case "json": return 4 + prepared.length;
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
    case "blob": case "json":
      at = buf.writeUInt32BE(v.length, at);
      return at + v.copy(buf, at);
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

module.exports = {
  VERSION,
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
