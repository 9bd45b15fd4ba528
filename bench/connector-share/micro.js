"use strict";
// The connector's own work per DELIVER_TO_ROOMS frame, in process, with the
// client's write taken out: a real Socket.IO 4.8.1 server with clients/node's
// adapter linked to the connector's fake busd (test-support/fake-busd.js),
// one real socket.io-client WebSocket client in roomA; then reads of busd's
// link are handed to the connector (BusConnection.onData, a fresh Buffer of
// --batch frames per read, as a socket read gives) with the sockets'
// `client.writeToEngine` replaced by a counter. "plain" is the same server's
// in-memory broadcast after the encode step (as server.js's plain drive:
// socket.io-adapter 2.5's apply, Sender.frame per message) with the same
// counter for a write. Alternating rounds; CPU time of this process
// (process.cpuUsage), which load moves less than the end-to-end bench.
//
//   node bench/connector-share/micro.js [--frames 200000] [--batch 20] [--rounds 7]
// CONNECTOR_SHARE_CONNECTOR=DIR measures another copy of clients/node.

require("../cluster-calls/stock-path");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");

const CONNECTOR = process.env.CONNECTOR_SHARE_CONNECTOR || path.resolve(__dirname, "../../clients/node");
const { createAdapter } = require(CONNECTOR);
const { FakeBusd } = require(path.join(CONNECTOR, "test-support/fake-busd"));
const { encodeFrame } = require(path.join(CONNECTOR, "lib/frames"));
const { Server } = require("socket.io");
const { io: ioClient } = require("socket.io-client");
const { Sender } = require("ws");
const { Adapter: InMemoryAdapter } = require("socket.io-adapter");

const o = { frames: 200000, batch: 20, rounds: 7 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) o[argv[i].replace(/^--/, "")] = Number(argv[i + 1]);

const PACKET = '2["toRoom",{"room":"roomA"}]';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const cpuUs = (u) => u.user + u.system;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "connector-micro-"));
  const busd = new FakeBusd(path.join(dir, "busd.sock"));
  await busd.listen();
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const Adapter = createAdapter({ path: busd.path, logger: quiet });
  const httpServer = http.createServer();
  const server = new Server(httpServer, { adapter: Adapter, serveClient: false });
  server.on("connection", (socket) => socket.join("roomA"));
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  while (!Adapter.bus.connected) await sleep(10);
  const client = ioClient(`http://127.0.0.1:${httpServer.address().port}`, { transports: ["websocket"], forceNew: true, reconnection: false });
  await new Promise((r) => client.once("connect", r));
  while (!server.of("/").adapter.rooms.get("roomA")) await sleep(10);

  let written = 0;
  for (const socket of server.of("/").sockets.values()) socket.client.writeToEngine = () => written++;

  const bus = Adapter.bus;
  const one = encodeFrame({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: 0, namespace: "/", rooms: ["roomA"], except: [], packet: Buffer.from(PACKET), attachments: [] });
  const read = Buffer.concat(Array.from({ length: o.batch }, () => one));
  const reads = Math.floor(o.frames / o.batch);
  const connector = () => {
    for (let i = 0; i < reads; i++) bus.onData(bus.socket, Buffer.from(read));
    return reads * o.batch;
  };

  const adapter = server.of("/").adapter;
  const opts = { rooms: new Set(["roomA"]), except: new Set(), flags: {} };
  const plain = () => {
    const n = reads * o.batch;
    for (let i = 0; i < n; i++) {
      const encoded = [PACKET];
      const writeOptions = { preEncoded: true, volatile: undefined, compress: undefined, wsPreEncodedFrame: Sender.frame(Buffer.from("4" + PACKET), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }) };
      InMemoryAdapter.prototype.apply.call(adapter, opts, (socket) => socket.client.writeToEngine(encoded, writeOptions));
    }
    return n;
  };

  const results = { connector: [], plain: [] };
  const run = (name, fn) => {
    const before = written;
    const u0 = process.cpuUsage();
    const n = fn();
    const us = cpuUs(process.cpuUsage(u0));
    if (written - before !== n) throw new Error(`${name}: ${written - before} writes for ${n} frames`);
    results[name].push((us * 1000) / n);
  };
  run("connector", connector); // warm-up
  run("plain", plain);
  results.connector.length = results.plain.length = 0;
  for (let r = 0; r < o.rounds; r++) {
    for (const name of r % 2 ? ["plain", "connector"] : ["connector", "plain"]) run(name, name === "connector" ? connector : plain);
    await sleep(10); // let the loop turn (timers, the link)
  }
  const diffs = results.connector.map((c, i) => c - results.plain[i]);
  console.log(`connector-share micro: ${reads * o.batch} frames per round in reads of ${o.batch}, ${o.rounds} rounds; connector: ${CONNECTOR}; load ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`  connector ns per frame (median): ${median(results.connector).toFixed(0)} [${results.connector.map((x) => x.toFixed(0)).join(", ")}]`);
  console.log(`  plain ns per packet (median): ${median(results.plain).toFixed(0)} [${results.plain.map((x) => x.toFixed(0)).join(", ")}]`);
  console.log(`  connector − plain, the client's write excluded (median of rounds): ${median(diffs).toFixed(0)} ns`);
  client.close();
  server.close();
  await busd.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
