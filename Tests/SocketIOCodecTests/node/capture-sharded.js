#!/usr/bin/env node
// Captures what real stock sharded nodes publish: two socket.io 4.8.1 servers
// with @socket.io/redis-adapter 8.3.0 createShardedAdapter (subscription mode
// from argv, default "dynamic") on one Redis 7, and socket.io-client clients
// on each. Every call of the adapter API is made once; each payload a server
// SPUBLISHes is recorded as its Redis client sends it (a subscribing monitor
// would be counted by SHARDNUMSUB and stall the requests), one JSON line
// {channel, hex, call, mode, server}.
//
// Usage (from the project root, redis-server on 127.0.0.1:PORT):
//   NODE_PATH="$(realpath ../shared/stock-socketio/node_modules):/usr/share/nodejs" \
//     node Tests/SocketIOCodecTests/node/capture-sharded.js redis://127.0.0.1:PORT dynamic \
//     > Tests/SocketIOCodecTests/Fixtures/sharded-captured.jsonl
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");
const { io: connect } = require("socket.io-client");
const { createShardedAdapter } = require("@socket.io/redis-adapter");
const { ShardedRedis } = require("../../Interop/peers/sharded-redis");

const url = process.argv[2] || "redis://127.0.0.1:6379";
const mode = process.argv[3] || "dynamic";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const lines = [];
let call = "setup";

async function server(name) {
  const pub = new ShardedRedis(url);
  const spublish = pub.spublish.bind(pub);
  pub.spublish = (channel, payload) => {
    const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    lines.push({ channel, hex: bytes.toString("hex"), call, mode, server: name });
    return spublish(channel, payload);
  };
  const sub = new ShardedRedis(url);
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createShardedAdapter(pub, sub, { subscriptionMode: mode }) });
  io.on("connection", (socket) => {
    socket.join("news");
    socket.on("disconnect", () => {});
  });
  io.on("ping-servers", (...args) => {
    const ack = args[args.length - 1];
    if (typeof ack === "function") ack(`pong from ${name}`);
  });
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  return { name, io, httpServer, port: httpServer.address().port, pub, sub };
}

async function main() {
  const [a, b] = [await server("A"), await server("B")];

  const clients = [];
  for (const s of [a, b]) {
    const c = connect(`http://127.0.0.1:${s.port}`, { transports: ["websocket"] });
    c.on("ack-me", (arg, cb) => cb({ got: arg }));
    c.on("ack-bin", (arg, cb) => cb(Buffer.from([9, 8, 7])));
    await new Promise((r) => c.on("connect", r));
    clients.push(c);
  }
  await sleep(200);

  async function step(name, fn) {
    call = name;
    await fn();
    await sleep(150);
  }
  await step('io.to("news").emit("headline", "x")', async () => a.io.to("news").emit("headline", "x"));
  await step("io.to(7).emit(\"n\", 1)", async () => a.io.to(7).emit("n", 1));
  await step('io.emit("file", Buffer.from([1, 2, 3]))', async () => a.io.emit("file", Buffer.from([1, 2, 3])));
  await step('io.to(["news", "other"]).except("x").emit("multi", {k: [1, 2.5, null]})', async () =>
    a.io.to(["news", "other"]).except("x").emit("multi", { k: [1, 2.5, null] }));
  await step("io.to(<socket id on B>).emit(\"direct\")", async () => {
    const id = [...b.io.of("/").sockets.keys()][0];
    a.io.to(id).emit("direct");
  });
  await step("io.volatile.compress(false).emit(\"v\")", async () => a.io.volatile.compress(false).emit("v"));
  await step("io.fetchSockets()", async () => { await a.io.fetchSockets(); });
  await step('io.in("news").except("nobody").fetchSockets()', async () => {
    await a.io.in("news").except("nobody").fetchSockets();
  });
  await step('io.socketsJoin("room2")', async () => a.io.socketsJoin("room2"));
  await step('io.in("room2").socketsLeave("room2")', async () => a.io.in("room2").socketsLeave("room2"));
  await step('io.serverSideEmit("hello", 1, "two")', async () => a.io.serverSideEmit("hello", 1, "two"));
  await step('io.serverSideEmitWithAck("ping-servers")', async () => { await a.io.serverSideEmitWithAck("ping-servers"); });
  await step('io.timeout(1000).emit("ack-me", 5, cb)', async () => {
    await new Promise((r) => a.io.timeout(1000).emit("ack-me", 5, () => r()));
  });
  await step('io.timeout(1000).emit("ack-bin", 1, cb)', async () => {
    await new Promise((r) => a.io.timeout(1000).emit("ack-bin", 1, () => r()));
  });
  await step('io.in("nobody").disconnectSockets(true)', async () => a.io.in("nobody").disconnectSockets(true));

  for (const line of lines) process.stdout.write(JSON.stringify(line) + "\n");
  for (const c of clients) c.close();
  for (const s of [a, b]) {
    s.io.close();
    s.pub.quit();
    s.sub.quit();
  }
  setTimeout(() => process.exit(0), 100);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
