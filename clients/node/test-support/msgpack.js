"use strict";
// Just enough MessagePack to read what busd publishes (the Redis adapter's
// `[uid, packet, opts]`) and to write a test message, independently of
// busd's codec.
// bin values become Buffers; notepack's ext 0 (undefined) becomes undefined.

function decodeMsgpack(buf) {
  const state = { buf, at: 0 };
  const value = read(state);
  if (state.at !== buf.length) throw new Error(`${buf.length - state.at} bytes after the msgpack value`);
  return value;
}

function read(s) {
  const b = s.buf;
  const byte = b[s.at++];
  if (byte === undefined) throw new Error("truncated msgpack");
  if (byte <= 0x7f) return byte;
  if (byte >= 0xe0) return byte - 0x100;
  if ((byte & 0xe0) === 0xa0) return str(s, byte & 0x1f);
  if ((byte & 0xf0) === 0x90) return arr(s, byte & 0x0f);
  if ((byte & 0xf0) === 0x80) return map(s, byte & 0x0f);
  const take = (n) => {
    const start = s.at;
    s.at += n;
    if (s.at > b.length) throw new Error("truncated msgpack");
    return start;
  };
  switch (byte) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: { const n = b.readUInt8(take(1)); return Buffer.from(b.subarray(take(n), s.at)); }
    case 0xc5: { const n = b.readUInt16BE(take(2)); return Buffer.from(b.subarray(take(n), s.at)); }
    case 0xc6: { const n = b.readUInt32BE(take(4)); return Buffer.from(b.subarray(take(n), s.at)); }
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
    case 0xd4: take(2); return undefined; // fixext 1: notepack's undefined
    case 0xd9: return str(s, b.readUInt8(take(1)));
    case 0xda: return str(s, b.readUInt16BE(take(2)));
    case 0xdb: return str(s, b.readUInt32BE(take(4)));
    case 0xdc: return arr(s, b.readUInt16BE(take(2)));
    case 0xdd: return arr(s, b.readUInt32BE(take(4)));
    case 0xde: return map(s, b.readUInt16BE(take(2)));
    case 0xdf: return map(s, b.readUInt32BE(take(4)));
    default: throw new Error(`msgpack type 0x${byte.toString(16)} not handled`);
  }
}

function str(s, n) {
  const start = s.at;
  s.at += n;
  if (s.at > s.buf.length) throw new Error("truncated msgpack string");
  return s.buf.toString("utf8", start, s.at);
}

function arr(s, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(read(s));
  return out;
}

function map(s, n) {
  const out = {};
  for (let i = 0; i < n; i++) {
    const key = read(s);
    out[key] = read(s);
  }
  return out;
}

/** Encodes strings, small non-negative integers, arrays and plain objects (enough for a test message). */
function encodeMsgpack(value) {
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    if (bytes.length < 32) return Buffer.concat([Buffer.from([0xa0 | bytes.length]), bytes]);
    const head = Buffer.from([0xda, 0, 0]);
    head.writeUInt16BE(bytes.length, 1);
    return Buffer.concat([head, bytes]);
  }
  if (Number.isInteger(value) && value >= 0) {
    if (value < 128) return Buffer.from([value]);
    const out = Buffer.alloc(5);
    out[0] = 0xce;
    out.writeUInt32BE(value, 1);
    return out;
  }
  if (Array.isArray(value)) {
    if (value.length > 15) throw new Error("array too long for this encoder");
    return Buffer.concat([Buffer.from([0x90 | value.length]), ...value.map(encodeMsgpack)]);
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length > 15) throw new Error("map too large for this encoder");
    return Buffer.concat([Buffer.from([0x80 | entries.length]), ...entries.flatMap(([k, v]) => [encodeMsgpack(k), encodeMsgpack(v)])]);
  }
  throw new Error(`cannot encode ${typeof value}`);
}

module.exports = { decodeMsgpack, encodeMsgpack };
