"use strict";
// One Socket.IO 4.8.1 server for bench/cluster-calls/run.js, in its own
// process: `stock` (@socket.io/redis-adapter 8.3.0 on node-redis, with the
// send_command shim of ../shared/stock-socketio/README.md) or `socketbus`
// (clients/node, linked to its busd). Commands come over IPC; the figures are
// timed here, from the application's call to its result.
//
//   node.js stock <redis-port> | node.js socketbus <busd-socket>

const http = require("node:http");
const path = require("node:path");
const { performance } = require("node:perf_hooks");
require("./stock-path");

const [kind, where] = process.argv.slice(2);
const { Server } = require("socket.io");
const TIMEOUT = 60000;

async function adapter() {
  if (kind === "stock") {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: `redis://127.0.0.1:${where}` });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    for (const c of [pub, sub]) c.send_command = (cmd, args, cb) => c.sendCommand([cmd, ...args]).then((r) => cb(null, r), cb);
    return createAdapter(pub, sub, { requestsTimeout: TIMEOUT });
  }
  const { createAdapter } = require(path.resolve(__dirname, "../../clients/node"));
  const quiet = { debug() {}, info() {}, warn: (m) => process.stderr.write(`connector: ${m}\n`), error: (m) => process.stderr.write(`connector: ${m}\n`) };
  const Adapter = createAdapter({ path: where, requestsTimeout: TIMEOUT, logger: quiet });
  return Adapter;
}

async function main() {
  const httpServer = http.createServer();
  const Adapter = await adapter();
  // Heartbeats every 2 min, not 25 s: 90k idle connections stay quiet between the timed calls.
  const io = new Server(httpServer, { adapter: Adapter, serveClient: false, pingInterval: 120000, pingTimeout: 60000 });
  io.on("connection", (socket) => {
    if (socket.handshake.query.g === "1") socket.join("ack-group");
  });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  if (kind === "socketbus") {
    const deadline = Date.now() + 10000;
    while (!Adapter.bus.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!Adapter.bus.connected) throw new Error("no session with busd");
  }

  process.on("message", async (message) => {
    const reply = (body) => process.send({ id: message.id, ...body });
    try {
      switch (message.cmd) {
        case "clients":
          return reply({ count: io.of("/").sockets.size, ackGroup: io.of("/").adapter.rooms.get("ack-group")?.size || 0 });
        case "serverCount":
          return reply({ count: await io.of("/").adapter.serverCount() });
        case "fetch": {
          const t0 = performance.now();
          const sockets = await io.fetchSockets();
          const ms = performance.now() - t0;
          const remote = sockets.filter((s) => !io.of("/").sockets.has(s.id)).length;
          return reply({ ms, count: sockets.length, remote });
        }
        case "ack": {
          const t0 = performance.now();
          io.to("ack-group")
            .timeout(TIMEOUT)
            .emit("bench-ack", 1, (err, responses) => {
              const ms = performance.now() - t0;
              reply({ ms, error: err ? String(err.message || err) : null, count: (responses || err?.responses || []).length });
            });
          return;
        }
        case "exit":
          io.close();
          setTimeout(() => process.exit(0), 100);
          return;
      }
    } catch (err) {
      reply({ error: String(err && err.stack || err) });
    }
  });
  process.send({ ready: true, port: httpServer.address().port });
}

main().catch((err) => {
  process.stderr.write(`node ${kind}: ${err.stack || err}\n`);
  process.exit(1);
});
