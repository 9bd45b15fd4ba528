"use strict";
// A minimal Redis client (RESP2 over net.Socket) for the integration tests:
// commands with string or Buffer arguments, replies in order, and pub/sub
// messages as "message" events (bulk strings stay Buffers).

const net = require("node:net");
const { EventEmitter } = require("node:events");

class RespClient extends EventEmitter {
  static connect(port, host = "127.0.0.1") {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(port, host);
      socket.once("connect", () => resolve(new RespClient(socket)));
      socket.once("error", reject);
    });
  }

  constructor(socket) {
    super();
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.pending = [];
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("error", (err) => this.failAll(err));
    socket.on("close", () => this.failAll(new Error("redis connection closed")));
  }

  command(...args) {
    const parts = [Buffer.from(`*${args.length}\r\n`)];
    for (const arg of args) {
      const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(String(arg));
      parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(Buffer.concat(parts));
    });
  }

  close() {
    this.socket.destroy();
  }

  onData(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const parsed = parse(this.buffer, 0);
      if (!parsed) return;
      this.buffer = this.buffer.subarray(parsed.end);
      const value = parsed.value;
      const kind = Array.isArray(value) && Buffer.isBuffer(value[0]) ? value[0].toString() : "";
      if (kind === "message" && value.length === 3) {
        this.emit("message", value[1].toString(), value[2]);
      } else if (kind === "pmessage" && value.length === 4) {
        this.emit("message", value[2].toString(), value[3], value[1].toString());
      } else {
        const waiter = this.pending.shift();
        if (!waiter) continue;
        if (value instanceof Error) waiter.reject(value);
        else waiter.resolve(value);
      }
    }
  }

  failAll(err) {
    for (const waiter of this.pending.splice(0)) waiter.reject(err);
  }
}

/** Parses one reply at `at`; null when incomplete. */
function parse(buf, at) {
  const lineEnd = buf.indexOf("\r\n", at);
  if (lineEnd < 0) return null;
  const line = buf.toString("utf8", at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (String.fromCharCode(buf[at])) {
    case "+": return { value: line, end: next };
    case "-": return { value: new Error(line), end: next };
    case ":": return { value: Number(line), end: next };
    case "$": {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.subarray(next, next + n), end: next + n + 2 };
    }
    case "*": {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let end = next;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, end);
        if (!item) return null;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`bad RESP reply: ${buf.toString("utf8", at, Math.min(buf.length, at + 40))}`);
  }
}

module.exports = { RespClient };
