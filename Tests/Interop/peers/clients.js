"use strict";
// The cluster's socket.io-client 4.8.1 clients and its
// @socket.io/redis-emitter 5.1.0, in one process driven by the test:
//
//   node clients.js --port 8100 --redis redis://127.0.0.1:6379
//
// POST /control {op: ...}:
//   connect {clients: [{label, url, nsp, rooms, ack}]}  -> {label: sid}
//   events {}            -> {label: [[event, ...args]]} received since the last call
//   disconnectAll {}
//   emitter {call: ...}  the emitter's API (emit, socketsJoin, serverSideEmit, ...)
// A client answers an acked event as its `ack` says: "ack" (with its label),
// "bytes" (its label as a Buffer), "never", or a delay in ms.

const http = require("node:http");
const { io: connect } = require("socket.io-client");

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];

const clients = new Map(); // label -> { socket, events, ack }
let emitterReady;

function record(label, entry) {
  const client = clients.get(label);
  if (client) client.events.push(entry);
}

function open(spec) {
  return new Promise((resolve, reject) => {
    const socket = connect(`${spec.url}${spec.nsp && spec.nsp !== "/" ? spec.nsp : ""}`, {
      // Clients of several namespaces on one server share nothing (forceNew): each is its own connection.
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      query: { label: spec.label, rooms: (spec.rooms || []).map((r) => (typeof r === "number" ? `n:${r}` : r)).join(",") },
    });
    const client = { socket, events: [], ack: spec.ack === undefined ? "ack" : spec.ack };
    clients.set(spec.label, client);
    socket.onAny((event, ...list) => {
      const ack = typeof list[list.length - 1] === "function" ? list.pop() : undefined;
      client.events.push([event, ...list]);
      if (!ack) return;
      const answer = { label: spec.label };
      if (client.ack === "ack") ack(answer);
      else if (client.ack === "bytes") ack(Buffer.from(spec.label));
      else if (typeof client.ack === "number") setTimeout(() => ack(answer), client.ack);
    });
    socket.on("disconnect", (reason) => client.events.push(["(disconnect)", reason]));
    const timer = setTimeout(() => reject(new Error(`client ${spec.label}: no connect from ${spec.url}`)), 5000);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket.id);
    });
    socket.once("connect_error", (error) => {
      clearTimeout(timer);
      reject(new Error(`client ${spec.label}: ${error.message}`));
    });
  });
}

async function emitter() {
  if (!emitterReady) {
    emitterReady = (async () => {
      const { createClient } = require("redis");
      const { Emitter } = require("@socket.io/redis-emitter");
      const client = createClient({ url: args.redis });
      client.on("error", (error) => console.error(`redis: ${error.message}`));
      await client.connect();
      return new Emitter(client);
    })();
  }
  return emitterReady;
}

const { keepBytes, decodeArgs } = require("./json-bytes");

function target(base, call) {
  let op = call.nsp && call.nsp !== "/" ? base.of(call.nsp) : base;
  if (call.rooms && call.rooms.length) op = op.to(call.rooms);
  if (call.except && call.except.length) op = op.except(call.except);
  if (call.volatile) op = op.volatile;
  return op;
}

const calls = {
  async connect(call) {
    const sids = await Promise.all(call.clients.map(open));
    return Object.fromEntries(call.clients.map((c, i) => [c.label, sids[i]]));
  },
  async events() {
    const out = {};
    for (const [label, client] of clients) out[label] = client.events.splice(0);
    return out;
  },
  async connected() {
    const out = {};
    for (const [label, client] of clients) out[label] = client.socket.connected;
    return out;
  },
  async disconnectAll() {
    for (const client of clients.values()) client.socket.disconnect();
    clients.clear();
  },
  async emitter(call) {
    const e = await emitter();
    const c = { ...call.call, args: decodeArgs(call.call.args) };
    const op = target(e, c);
    switch (c.op) {
      case "broadcast":
        op.emit(c.event, ...(c.args || []));
        return;
      case "socketsJoin":
        op.socketsJoin(c.targets);
        return;
      case "socketsJoinThenBroadcast":
        op.socketsJoin(c.targets);
        (c.nsp && c.nsp !== "/" ? e.of(c.nsp) : e).to(c.targets).emit(c.event, ...(c.args || []));
        return;
      case "socketsLeave":
        op.socketsLeave(c.targets);
        return;
      case "disconnectSockets":
        op.disconnectSockets(Boolean(c.close));
        return;
      case "serverSideEmit":
        (c.nsp && c.nsp !== "/" ? e.of(c.nsp) : e).serverSideEmit(c.event, ...(c.args || []));
        return;
      default:
        throw new Error(`the emitter has no ${c.op}`);
    }
  },
};

http
  .createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", async () => {
      const call = JSON.parse(body);
      let outcome;
      try {
        const fn = calls[call.op];
        if (!fn) throw new Error(`unknown op ${call.op}`);
        outcome = { value: await fn(call) };
      } catch (error) {
        outcome = { error: error.message };
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(outcome, keepBytes));
    });
  })
  .listen(Number(args.port), "127.0.0.1", () => console.log(`clients on ${args.port}`));
