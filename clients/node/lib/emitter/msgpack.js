"use strict";
// A MessagePack encoder for the Redis adapter's broadcast message
// (`[uid, packet, opts]`), written to produce the same bytes as notepack.io,
// which @socket.io/redis-emitter uses: integers in the smallest form,
// every other number as float 64, undefined as fixext 1 (type 0), Buffers as
// bin, other binary views as ext type 0, Dates as fixext 8 (type 0, ms),
// toJSON() honoured, object keys whose value is a function left out.

function encode(value) {
  const out = [];
  write(out, value);
  return Buffer.concat(out);
}

function head(out, bytes) {
  out.push(Buffer.from(bytes));
}

function sized(out, length, small, codes, what) {
  // codes: [8-bit, 16-bit, 32-bit] type bytes; small: fix-form limit and base, or null.
  if (small && length < small.limit) return head(out, [small.base | length]);
  if (codes[0] !== null && length < 0x100) return head(out, [codes[0], length]);
  if (length < 0x10000) return head(out, [codes[1], length >> 8, length & 0xff]);
  if (length < 0x100000000) {
    const b = Buffer.alloc(5);
    b[0] = codes[2];
    b.writeUInt32BE(length, 1);
    return out.push(b);
  }
  throw new Error(`${what} too large for msgpack`);
}

function int64(out, code, value) {
  const b = Buffer.alloc(9);
  b[0] = code;
  const hi = Math.floor(value / 0x100000000);
  b.writeUInt32BE(hi >>> 0, 1);
  b.writeUInt32BE(value >>> 0, 5);
  out.push(b);
}

function number(out, value) {
  if (Math.floor(value) !== value || !isFinite(value)) {
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(value, 1);
    return out.push(b);
  }
  if (value >= 0) {
    if (value < 0x80) return head(out, [value]);
    if (value < 0x100) return head(out, [0xcc, value]);
    if (value < 0x10000) return head(out, [0xcd, value >> 8, value & 0xff]);
    if (value < 0x100000000) {
      const b = Buffer.alloc(5);
      b[0] = 0xce;
      b.writeUInt32BE(value, 1);
      return out.push(b);
    }
    return int64(out, 0xcf, value);
  }
  if (value >= -0x20) return head(out, [value & 0xff]);
  if (value >= -0x80) return head(out, [0xd0, value & 0xff]);
  if (value >= -0x8000) return head(out, [0xd1, (value >> 8) & 0xff, value & 0xff]);
  if (value >= -0x80000000) {
    const b = Buffer.alloc(5);
    b[0] = 0xd2;
    b.writeInt32BE(value, 1);
    return out.push(b);
  }
  return int64(out, 0xd3, value);
}

function write(out, value) {
  switch (typeof value) {
    case "string": {
      const bytes = Buffer.from(value, "utf8");
      sized(out, bytes.length, { limit: 0x20, base: 0xa0 }, [0xd9, 0xda, 0xdb], "string");
      return out.push(bytes);
    }
    case "number":
      return number(out, value);
    case "boolean":
      return head(out, [value ? 0xc3 : 0xc2]);
    case "undefined":
      return head(out, [0xd4, 0, 0]);
    case "object":
      return object(out, value);
    default:
      throw new Error(`cannot encode a ${typeof value} as msgpack`);
  }
}

function object(out, value) {
  if (value === null) return head(out, [0xc0]);
  if (Array.isArray(value)) {
    sized(out, value.length, { limit: 0x10, base: 0x90 }, [null, 0xdc, 0xdd], "array");
    for (const item of value) write(out, item);
    return;
  }
  if (value instanceof Date) {
    const b = Buffer.alloc(10);
    b[0] = 0xd7;
    b[1] = 0;
    const time = value.getTime();
    b.writeUInt32BE(Math.floor(time / 0x100000000) >>> 0, 2);
    b.writeUInt32BE(time >>> 0, 6);
    return out.push(b);
  }
  if (Buffer.isBuffer(value)) {
    sized(out, value.length, null, [0xc4, 0xc5, 0xc6], "buffer");
    return out.push(value);
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    // notepack writes the whole underlying ArrayBuffer of a view, as ext type 0.
    const buffer = value.buffer || value;
    const length = buffer.byteLength;
    if (length < 0x100) head(out, [0xc7, length, 0]);
    else if (length < 0x10000) head(out, [0xc8, length >> 8, length & 0xff, 0]);
    else {
      const b = Buffer.alloc(6);
      b[0] = 0xc9;
      b.writeUInt32BE(length, 1);
      out.push(b);
    }
    return out.push(Buffer.from(buffer));
  }
  if (typeof value.toJSON === "function") return write(out, value.toJSON());
  const keys = Object.keys(value).filter((key) => typeof value[key] !== "function");
  sized(out, keys.length, { limit: 0x10, base: 0x80 }, [null, 0xde, 0xdf], "map");
  for (const key of keys) {
    write(out, key);
    write(out, value[key]);
  }
}

module.exports = { encode };

// Reading the adapter's msgpack answers (BROADCAST_ACK). Throws on anything
// malformed; the caller skips such a message.
function decode(buf) {
  const state = { buf, at: 0 };
  const value = read(state);
  if (state.at !== buf.length) throw new Error("bytes after the msgpack value");
  return value;
}

function read(s) {
  const b = s.buf;
  const take = (n) => {
    const start = s.at;
    s.at += n;
    if (s.at > b.length) throw new Error("truncated msgpack");
    return start;
  };
  const byte = b[take(1)];
  const items = (n, f) => {
    if (n > b.length - s.at) throw new Error("msgpack length beyond the message");
    return f(n);
  };
  const arr = (n) => items(n, () => Array.from({ length: n }, () => read(s)));
  const map = (n) =>
    items(n, () => {
      const out = {};
      for (let i = 0; i < n; i++) {
        const key = read(s);
        if (typeof key !== "string" && typeof key !== "number") throw new Error("msgpack map key");
        const value = read(s);
        if (key !== "__proto__") out[key] = value;
      }
      return out;
    });
  const str = (n) => b.toString("utf8", take(n), s.at);
  const bin = (n) => Buffer.from(b.subarray(take(n), s.at));
  if (byte <= 0x7f) return byte;
  if (byte >= 0xe0) return byte - 0x100;
  if ((byte & 0xe0) === 0xa0) return str(byte & 0x1f);
  if ((byte & 0xf0) === 0x90) return arr(byte & 0x0f);
  if ((byte & 0xf0) === 0x80) return map(byte & 0x0f);
  switch (byte) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: return bin(b.readUInt8(take(1)));
    case 0xc5: return bin(b.readUInt16BE(take(2)));
    case 0xc6: return bin(b.readUInt32BE(take(4)));
    case 0xca: return b.readFloatBE(take(4));
    case 0xcb: return b.readDoubleBE(take(8));
    case 0xcc: return b.readUInt8(take(1));
    case 0xcd: return b.readUInt16BE(take(2));
    case 0xce: return b.readUInt32BE(take(4));
    case 0xcf: return Number(b.readBigUInt64BE(take(8)));
    case 0xd0: return b.readInt8(take(1));
    case 0xd1: return b.readInt16BE(take(2));
    case 0xd2: return b.readInt32BE(take(4));
    case 0xd3: return Number(b.readBigInt64BE(take(8)));
    case 0xd4: take(2); return undefined; // notepack's undefined
    case 0xd7: { const at = take(9); return new Date(b.readInt32BE(at + 1) * 0x100000000 + b.readUInt32BE(at + 5)); }
    case 0xd9: return str(b.readUInt8(take(1)));
    case 0xda: return str(b.readUInt16BE(take(2)));
    case 0xdb: return str(b.readUInt32BE(take(4)));
    case 0xdc: return arr(b.readUInt16BE(take(2)));
    case 0xdd: return arr(b.readUInt32BE(take(4)));
    case 0xde: return map(b.readUInt16BE(take(2)));
    case 0xdf: return map(b.readUInt32BE(take(4)));
    default: throw new Error(`msgpack type 0x${byte.toString(16)} not read here`);
  }
}

module.exports.decode = decode;
