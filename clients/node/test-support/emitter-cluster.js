"use strict";
// A small socketbus cluster for the Emitter's tests and benchmark: a real
// redis-server, N nodes each of a real busd and a real socket.io 4.8.1
// server with this connector, and real socket.io-client connections.

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { createAdapter } = require("..");
const { stock } = require("./stock");
const { startRedis, startBusd, stableBusd } = require("./processes");
const { waitFor, tempDir, quietLogger } = require("./wait");

async function startCluster({ nodes = 1, busdArgs = [] } = {}) {
  const dir = tempDir("sbemit-");
  const binary = stableBusd(dir);
  const redis = await startRedis();
  const servers = [];
  const clients = [];
  const cleanup = async () => {
    for (const client of clients) client.close();
    for (const server of servers) {
      await new Promise((resolve) => server.io.close(() => resolve()));
      await server.busd.stop();
    }
    redis.client.close?.();
    await redis.child.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < nodes; i++) {
      const socketPath = path.join(dir, `busd${i}.sock`);
      const nodeId = `node-${i}`;
      const busd = await startBusd(binary, { redisUrl: redis.url, socketPath, nodeId, extra: busdArgs });
      const Adapter = createAdapter({ path: socketPath, nodeName: nodeId, logger: quietLogger() });
      const httpServer = http.createServer();
      const io = new stock.Server(httpServer, { adapter: Adapter });
      await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
      await waitFor(() => Adapter.bus.connected, { timeout: 10000, what: `${nodeId}'s session with busd` });
      servers.push({ busd, io, Adapter, nodeId, port: httpServer.address().port });
    }
  } catch (error) {
    await cleanup();
    throw error;
  }

  /** A connected client on node `index`; `setup(client)` adds its handlers before it connects. */
  async function connect(index, setup = () => {}, nsp = "/") {
    const client = stock.ioClient(`http://127.0.0.1:${servers[index].port}${nsp}`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
    });
    clients.push(client);
    setup(client);
    await new Promise((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    return client;
  }

  /** Waits until busd registered every socket id in Redis. */
  async function registered(ids) {
    await waitFor(async () => {
      for (const id of ids) if (!(await redis.client.command("HEXISTS", "socketbus:owner", id))) return false;
      return true;
    }, { timeout: 10000, what: "the sockets in the registry" });
  }

  /** A stock node: socket.io with @socket.io/redis-adapter 8.3.0, no busd; appended to `servers`. */
  async function startStockNode() {
    const { createClient } = require("redis");
    const redisAdapter = require("@socket.io/redis-adapter");
    const pub = createClient({ url: redis.url });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    // The one shim a stock node needs with Debian's node-redis 4.5 (../shared/stock-socketio/README.md).
    for (const c of [pub, sub]) c.send_command = (cmd, args, cb) => c.sendCommand([cmd, ...args]).then((r) => cb(null, r), cb);
    const httpServer = http.createServer();
    const io = new stock.Server(httpServer, { adapter: redisAdapter.createAdapter(pub, sub, { requestsTimeout: 3000 }) });
    await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    const server = {
      io,
      nodeId: "stock",
      port: httpServer.address().port,
      busd: { stop: async () => Promise.all([pub.quit().catch(() => {}), sub.quit().catch(() => {})]) },
    };
    servers.push(server);
    await waitFor(async () => Number((await redis.client.command("PUBSUB", "NUMSUB", "socket.io-request#/#"))[1]) > 0, {
      what: "the stock node's subscriptions",
    });
    return servers.length - 1;
  }

  return { redis, servers, connect, registered, cleanup, startStockNode };
}

module.exports = { startCluster };
