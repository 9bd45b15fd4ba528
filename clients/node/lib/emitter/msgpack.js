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
