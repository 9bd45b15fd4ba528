"use strict";
// One Socket.IO 4.8.1 server for bench/connector-share/run.js, in its own
// process. Every client joins "roomA" on connection.
//
//   server.js socketbus <busd socket>   clients/node's adapter, linked to busd
//   server.js stock <redis port>        @socket.io/redis-adapter 8.3.0 (node-redis, with the README's shim)
//   server.js plain                     socket.io's in-memory adapter; on the IPC command
//                                       {cmd: "drive", packet, count, rate} it writes the same
//                                       pre-encoded packet to roomA itself, paced at `rate` in 1 ms
//                                       steps (as steps.c publishes), or 256 per turn of the
//                                       event loop with rate 0
//
// The `plain` drive is the in-memory adapter's broadcast after its encode
// step (a packet string already encoded, the WebSocket frame built once per
// message as socket.io-adapter 2.5's _encode does, room selection with
// adapter.apply, client.writeToEngine per socket), i.e. what the connector
// does per DELIVER_TO_ROOMS without the connector's own work (reading and
// decoding the frame from busd, its bookkeeping).

const http = require("node:http");
const { PerformanceObserver } = require("node:perf_hooks");
const path = require("node:path");
const { textFrame } = require("../../clients/node/lib/local-adapter");
require("../cluster-calls/stock-path");

const [kind, where] = process.argv.slice(2);
const { Server } = require("socket.io");

async function adapter() {
  if (kind === "stock") {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: `redis://127.0.0.1:${where}` });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    for (const c of [pub, sub]) c.send_command = (cmd, args, cb) => c.sendCommand([cmd, ...args]).then((r) => cb(null, r), cb);
    return createAdapter(pub, sub);
  }
  if (kind === "socketbus") {
    // CONNECTOR_SHARE_CONNECTOR: another copy of clients/node (a before/after comparison).
    const { createAdapter } = require(process.env.CONNECTOR_SHARE_CONNECTOR || path.resolve(__dirname, "../../clients/node"));
    const quiet = { debug() {}, info() {}, warn: (m) => process.stderr.write(`connector: ${m}\n`), error: (m) => process.stderr.write(`connector: ${m}\n`) };
    return createAdapter({ path: where, logger: quiet });
  }
  return undefined;
}

let Sender = null;
function wsFrame(text, oneBuffer) {
  Sender ||= require("ws").Sender;
  // "4": engine.io's message packet type.
  if (!oneBuffer) return Sender.frame(Buffer.from("4" + text), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
  // run.js --plain-frame one: header and payload built in one buffer, as the
  // connector writes busd's deliveries (one write per socket): its own writer.
  return [textFrame(Buffer.from(text))];
}

// In a socketbus server (run.js --interleave) the plain drive selects with
// socket.io-adapter 2.5's own in-memory apply on the connector's rooms (the
// same Map of Sets), so both modes run in one process and heap.
let inMemoryApply = null;
function applyOf(adapter) {
  if (kind !== "socketbus") return (opts, callback) => adapter.apply(opts, callback);
  inMemoryApply ||= require("socket.io-adapter").Adapter.prototype.apply;
  return (opts, callback) => inMemoryApply.call(adapter, opts, callback);
}

// Garbage collection in this process (count, ms), for the table.
const gc = { count: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.ms += entry.duration;
  }
}).observe({ entryTypes: ["gc"] });

function drive(io, { packet, count, rate, quiet, oneBuffer }) {
  const adapter = io.of("/").adapter;
  const apply = applyOf(adapter);
  const opts = { rooms: new Set(["roomA"]), except: new Set(), flags: {} };
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    let sent = 0;
    let ticks = 0;
    const cpu0 = process.cpuUsage();
    const tick = () => {
      ticks++;
      // rate 0: as fast as the loop goes, 256 messages per turn of the event loop
      const due = rate > 0 ? Math.min(count, Math.floor((Number(process.hrtime.bigint() - start) / 1e9) * rate)) : Math.min(count, sent + 256);
      for (; sent < due; sent++) {
        const encoded = [packet];
        const writeOptions = { preEncoded: true, volatile: undefined, compress: undefined, wsPreEncodedFrame: wsFrame(packet, oneBuffer) };
        apply(opts, (socket) => socket.client.writeToEngine(encoded, writeOptions));
      }
      if (sent < count) rate > 0 ? setTimeout(tick, 1) : setImmediate(tick);
      else {
        const u = process.cpuUsage(cpu0);
        if (!quiet) process.stderr.write(`drive: ${sent} in ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(2)} s, ${((u.user + u.system) / sent).toFixed(2)} µs/packet, ${ticks} ticks\n`);
        resolve({ sent, ticks });
      }
    };
    tick();
  });
}

async function main() {
  const httpServer = http.createServer();
  const Adapter = await adapter();
  const io = new Server(httpServer, { adapter: Adapter, serveClient: false, pingInterval: 120000, pingTimeout: 60000 });
  io.on("connection", (socket) => socket.join("roomA"));
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  if (kind === "socketbus") {
    const deadline = Date.now() + 10000;
    while (!Adapter.bus.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!Adapter.bus.connected) throw new Error("no session with busd");
    // How many reads the frames from busd arrive in (one event-loop wake-up each).
    const bus = Adapter.bus;
    const onData = bus.onData;
    bus.reads = 0;
    bus.onData = function (socket, chunk) {
      bus.reads++;
      return onData.call(this, socket, chunk);
    };
  }
  process.on("message", async (message) => {
    const reply = (body) => process.send({ id: message.id, ...body });
    switch (message.cmd) {
      case "link":
        return reply(Adapter && Adapter.bus ? { reads: Adapter.bus.reads, frames: Adapter.bus.counters.framesIn, gc } : { gc });
      case "members":
        return reply({ count: io.of("/").adapter.rooms.get("roomA")?.size || 0 });
      case "gc":
        // run.js --interleave: a full collection between blocks, so that no
        // block pays for the garbage of the ones before it.
        if (typeof global.gc === "function") global.gc();
        return reply({ collected: typeof global.gc === "function" });
      case "drive":
        return reply(await drive(io, message));
      case "exit":
        io.close();
        setTimeout(() => process.exit(0), 100);
        return;
    }
  });
  process.send({ ready: true, port: httpServer.address().port });
}

main().catch((err) => {
  process.stderr.write(`server ${kind}: ${err.stack || err}\n`);
  process.exit(1);
});
