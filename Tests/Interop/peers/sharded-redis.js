"use strict";
// A minimal Redis client for @socket.io/redis-adapter's createShardedAdapter
// on Debian's node-redis 4.5.1, which has no sSubscribe/sPublish (the adapter
// detects node-redis v4 by sSubscribe) and drops `smessage` pushes. The
// adapter then uses the ioredis-style API this file gives it:
// `ssubscribe`, `sunsubscribe`, the `smessageBuffer` event, `spublish`, and
// `send_command` (for PUBSUB SHARDNUMSUB). RESP2 over one socket each; no
// reconnection (a test peer, not a product client).

const net = require("node:net");
const { EventEmitter } = require("node:events");

function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

// Parses one RESP2 value at `offset`; returns [value, next] or undefined when incomplete.
function parse(buffer, offset) {
  const end = buffer.indexOf("\r\n", offset);
  if (end < 0) return undefined;
  const kind = String.fromCharCode(buffer[offset]);
  const line = buffer.toString("utf8", offset + 1, end);
  const next = end + 2;
  switch (kind) {
    case "+": return [line, next];
    case "-": return [new Error(line), next];
    case ":": return [Number(line), next];
    case "$": {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buffer.length < next + length + 2) return undefined;
      return [buffer.subarray(next, next + length), next + length + 2];
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const parsed = parse(buffer, at);
        if (!parsed) return undefined;
        items.push(parsed[0]);
        at = parsed[1];
      }
      return [items, at];
    }
    default: throw new Error(`RESP: unexpected byte ${buffer[offset]}`);
  }
}

class ShardedRedis extends EventEmitter {
  constructor(url) {
    super();
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port || 6379);
    this.pending = [];
    this.buffer = Buffer.alloc(0);
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.socket = net.createConnection({ host: this.host, port: this.port }, resolve);
      this.socket.once("error", reject);
      this.socket.on("error", (e) => this.emit("error", e));
      this.socket.on("data", (chunk) => this.onData(chunk));
    });
  }

  onData(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let offset = 0;
    for (;;) {
      const parsed = parse(this.buffer, offset);
      if (!parsed) break;
      offset = parsed[1];
      this.onValue(parsed[0]);
    }
    this.buffer = this.buffer.subarray(offset);
  }

  onValue(value) {
    if (Array.isArray(value) && Buffer.isBuffer(value[0]) && value[0].toString() === "smessage") {
      this.emit("smessageBuffer", value[1], value[2]);
      return;
    }
    const waiter = this.pending.shift();
    if (!waiter) return;
    if (value instanceof Error) waiter.reject(value);
    else waiter.resolve(value);
  }

  command(args) {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(encodeCommand(args));
    });
  }

  ssubscribe(channel) { return this.command(["SSUBSCRIBE", channel]); }
  sunsubscribe(channel) {
    const channels = Array.isArray(channel) ? channel : [channel];
    return Promise.all(channels.map((c) => this.command(["SUNSUBSCRIBE", c])));
  }
  spublish(channel, payload) { return this.command(["SPUBLISH", channel, payload]); }
  send_command(cmd, args, cb) {
    this.command([cmd, ...args]).then(
      (reply) => cb(null, Array.isArray(reply) ? reply.map((r) => (Buffer.isBuffer(r) ? r.toString() : r)) : reply),
      cb,
    );
  }
  quit() { this.socket.end(); }
}

module.exports = { ShardedRedis };
