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

const {
  VERSION,
  VERSIONS,
  MAX_LENGTH,
  TYPES,
  V2_TYPES,
  REQUEST_KINDS,
  REPLY_STATUS,
  QUESTION_KINDS,
  ANSWER_STATUS,
  APPLY_OPS,
  NAMES,
  ERROR_CODES,
  ACK_STATUS,
  LAYOUTS,
  ProtocolError,
  malformed,
  flagsToByte,
  flagsFromByte,
} = require("./frame-types");

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
//
// Frames are decoded in place, at offsets in the buffer a read returned: no
// copy or view per frame, integers read at offsets, u64 as two u32 halves (a
// BigInt only for PING/PONG tokens). DELIVER and DELIVER_TO_ROOMS, one per
// broadcast busd hands the node, have their own straight-line decoders; the
// other types go through the layout table.

const SAFE_HIGH = 0x1fffff; // the high u32 of Number.MAX_SAFE_INTEGER
// The flags byte's 8 values as frozen objects, shared by every frame.
const FLAGS = Array.from({ length: 8 }, (_, byte) => Object.freeze(flagsFromByte(byte)));

// An empty list (most deliveries have no except and no attachments): one
// frozen array for all of them.
const NONE = Object.freeze([]);

// Short strings seen before (the namespace, room names, socket ids) are
// decoded and UTF-8-checked once: a later string with the same bytes is the
// same string. A small table indexed by length and the first and last bytes.
const CACHE_SLOTS = 256;
const CACHE_MAX_BYTES = 64;
const cacheBytes = new Array(CACHE_SLOTS).fill(null);
const cacheStrings = new Array(CACHE_SLOTS).fill("");

function malformedShort(what, n, at, end, base) {
  return malformed(`${what} needs ${n} bytes at body offset ${at - base}, ${Math.max(0, end - at)} left`);
}

/**
 * The decoding state of one frame: the buffer, the body's first byte (the
 * type), its end, and where the next field starts.
 */
class Cursor {
  constructor(buf, base, end) {
    this.reset(buf, base, end);
  }

  reset(buf, base, end) {
    this.buf = buf;
    this.base = base;
    this.end = end;
    this.at = base;
    return this;
  }

  remaining() {
    return this.end - this.at;
  }

  take(n, what) {
    const start = this.at;
    if (n > this.end - start) throw malformedShort(what, n, start, this.end, this.base);
    this.at = start + n;
    return start;
  }

  u8(what) {
    return this.buf[this.take(1, what)];
  }

  u16(what) {
    const at = this.take(2, what);
    return (this.buf[at] << 8) | this.buf[at + 1];
  }

  u32(what) {
    return this.buf.readUInt32BE(this.take(4, what));
  }

  /** A u64 as a Number; refused rather than rounded above 2^53-1 (a rounded ack id would ack the wrong message). */
  u64(what) {
    const at = this.take(8, what);
    const high = this.buf.readUInt32BE(at);
    const low = this.buf.readUInt32BE(at + 4);
    if (high > SAFE_HIGH) throw malformed(`${what} ${this.buf.readBigUInt64BE(at)} is above 2^53-1`);
    return high * 0x100000000 + low;
  }

  string(what) {
    const n = this.u16(what);
    const start = this.take(n, what);
    return decodeString(this.buf, start, start + n, what);
  }

  blob(what) {
    const n = this.u32(what);
    const start = this.take(n, what);
    return this.buf.subarray(start, start + n);
  }

  strings(what) {
    const count = this.u32(what);
    if (count > Math.floor(this.remaining() / 2)) throw malformed(`${what} announces ${count} items, more than the frame holds`);
    const items = new Array(count);
    for (let i = 0; i < count; i++) items[i] = this.string(what);
    return items;
  }

  blobs(what) {
    const count = this.u32(what);
    if (count === 0) return NONE;
    if (count > Math.floor(this.remaining() / 4)) throw malformed(`${what} announces ${count} items, more than the frame holds`);
    const items = new Array(count);
    for (let i = 0; i < count; i++) items[i] = this.blob(what);
    return items;
  }

  rooms(what) {
    const count = this.u32(what);
    if (count === 0) return NONE;
    // The shortest room is a tag and an empty string: 3 bytes.
    if (count > Math.floor(this.remaining() / 3)) throw malformed(`${what} announces ${count} rooms, more than the frame holds`);
    const rooms = new Array(count);
    for (let i = 0; i < count; i++) {
      const tag = this.u8(what);
      if (tag === 0) rooms[i] = this.string(what);
      else if (tag === 1) {
        const room = this.buf.readDoubleBE(this.take(8, what));
        if (!Number.isFinite(room)) throw malformed(`${what}: a numeric room is ${room}`);
        rooms[i] = room;
      } else throw malformed(`${what}: room tag ${tag} is not 0 or 1`);
    }
    return rooms;
  }

  flags(what) {
    return FLAGS[this.u8(what) & 7];
  }

  /** A field of the layout table. */
  read(kind, what) {
    switch (kind) {
      case "u8": return this.u8(what);
      case "bool": return this.u8(what) !== 0;
      case "flags": return this.flags(what);
      case "status": {
        const byte = this.u8(what);
        if (byte < 1 || byte > 3) throw malformed(`ack status ${byte} is not 1, 2 or 3`);
        return byte;
      }
      case "u16": return this.u16(what);
      case "u32": return this.u32(what);
      case "token": return this.buf.readBigUInt64BE(this.take(8, what));
      case "u64": return this.u64(what);
      case "string": return this.string(what);
      case "blob": return this.blob(what);
      case "json": {
        const bytes = this.blob(what);
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
        const bytes = this.blob(what);
        if (bytes.length === 0) return undefined;
        try {
          return JSON.parse(bytes.toString("utf8"));
        } catch {
          throw malformed(`${what} is not JSON`);
        }
      }
      case "rooms": return this.rooms(what);
      case "strings": return this.strings(what);
      case "blobs": return this.blobs(what);
      default:
        throw new Error(`unknown field kind ${kind}`);
    }
  }
}

/** The string of buf[start, end), refused when it is not UTF-8 (the protocol's rule). */
function decodeString(buf, start, end, what) {
  const n = end - start;
  if (n === 0) return "";
  if (n > CACHE_MAX_BYTES) return decodeUncached(buf, start, end, what);
  const slot = (n * 31 + buf[start] * 7 + buf[end - 1]) & (CACHE_SLOTS - 1);
  const known = cacheBytes[slot];
  if (known !== null && known.length === n) {
    let i = 0;
    while (i < n && known[i] === buf[start + i]) i++;
    if (i === n) return cacheStrings[slot];
  }
  const text = decodeUncached(buf, start, end, what);
  // A copy: the read's buffer is not kept alive by the cache.
  const copy = Buffer.allocUnsafeSlow(n);
  buf.copy(copy, 0, start, end);
  cacheBytes[slot] = copy;
  cacheStrings[slot] = text;
  return text;
}

function decodeUncached(buf, start, end, what) {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return buf.toString("latin1", start, end);
  if (!isUtf8(buf.subarray(start, end))) throw malformed(`${what} is not valid UTF-8`);
  return buf.toString("utf8", start, end);
}

// DELIVER_TO_ROOMS (v2): ackId:u64 flags:u8 namespace:string rooms except packet:blob attachments:blobs
function decodeDeliverToRooms(c) {
  const ackId = c.u64("ackId");
  const flags = c.flags("flags");
  const namespace = c.string("namespace");
  const rooms = c.rooms("rooms");
  const except = c.rooms("except");
  const packet = c.blob("packet");
  const attachments = c.blobs("attachments");
  return { type: "DELIVER_TO_ROOMS", ackId, flags, namespace, rooms, except, packet, attachments };
}

// DELIVER (v1): ackId:u64 flags:u8 namespace:string socketIds:strings packet:blob attachments:blobs
function decodeDeliver(c) {
  const ackId = c.u64("ackId");
  const flags = c.flags("flags");
  const namespace = c.string("namespace");
  const socketIds = c.strings("socketIds");
  const packet = c.blob("packet");
  const attachments = c.blobs("attachments");
  return { type: "DELIVER", ackId, flags, namespace, socketIds, packet, attachments };
}

/** Decodes the frame body at buf[start, end) (type byte + fields, without the length prefix). */
// Decoding is synchronous and never re-entered: one cursor serves every frame.
const cursor = new Cursor(null, 0, 0);

function decodeFrame(buf, start, end) {
  const c = cursor.reset(buf, start, end);
  const typeByte = c.u8("type");
  let frame;
  if (typeByte === TYPES.DELIVER_TO_ROOMS) frame = decodeDeliverToRooms(c);
  else if (typeByte === TYPES.DELIVER) frame = decodeDeliver(c);
  else {
    const type = NAMES.get(typeByte);
    if (!type) throw malformed(`unknown frame type 0x${typeByte.toString(16)}`);
    frame = { type };
    for (const [name, kind] of LAYOUTS[type]) frame[name] = c.read(kind, name);
    if (type === "APPLY" && (frame.op < 1 || frame.op > 3)) throw malformed(`APPLY op ${frame.op} is not 1, 2 or 3`);
  }
  if (c.at !== end) throw malformed(`${end - c.at} bytes left after the body of ${frame.type}`);
  return frame;
}

/** Decodes one frame body (type byte + fields, without the length prefix). */
function decodeBody(body) {
  return decodeFrame(body, 0, body.length);
}

/**
 * Cuts a byte stream into frames. Feed it whatever a read returned with
 * `push`, then call `next()` until it returns null. A frame that lies whole
 * in one read is decoded where it lies; chunks are only joined once a whole
 * frame is there, so a large frame arriving in many small reads costs one
 * copy; the length prefix is checked before anything is buffered beyond it.
 */
class FrameDecoder {
  constructor() {
    this.chunks = [];
    this.offset = 0; // where the unread bytes of chunks[0] start
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
    const first = this.chunks[0];
    const offset = this.offset;
    const inFirst = first.length - offset;
    const length = inFirst >= 4 ? first.readUInt32BE(offset) : this.peekLength();
    if (length < 1 || length > MAX_LENGTH) {
      throw new ProtocolError(ERROR_CODES.TOO_LARGE, `frame length ${length} is outside 1...${MAX_LENGTH}`);
    }
    if (this.buffered < 4 + length) return null;
    if (inFirst >= 4 + length) {
      const end = offset + 4 + length;
      this.buffered -= 4 + length;
      if (end === first.length) {
        this.chunks.shift();
        this.offset = 0;
      } else this.offset = end;
      return decodeFrame(first, offset + 4, end);
    }
    const frameBytes = this.consume(4 + length);
    return decodeFrame(frameBytes, 4, frameBytes.length);
  }

  peekLength() {
    const head = Buffer.alloc(4);
    let filled = 0;
    let from = this.offset;
    for (const chunk of this.chunks) {
      filled += chunk.copy(head, filled, from, Math.min(chunk.length, from + 4 - filled));
      from = 0;
      if (filled === 4) break;
    }
    return head.readUInt32BE(0);
  }

  consume(n) {
    if (this.offset > 0) {
      this.chunks[0] = this.chunks[0].subarray(this.offset);
      this.offset = 0;
    }
    this.buffered -= n;
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
  decodeFrame,
  FrameDecoder,
  flagsToByte,
  flagsFromByte,
};
