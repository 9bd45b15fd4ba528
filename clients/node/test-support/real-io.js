"use strict";
// A real socket.io 4.8.1 server using the connector, against a fake busd
// (test-support/fake-busd.js, protocol v2 unless told otherwise), with real
// socket.io-client connections over WebSocket.

const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { createAdapter } = require("..");
const { FakeBusd } = require("./fake-busd");
const { stock } = require("./stock");
const { waitFor, tempDir, quietLogger } = require("./wait");

/**
 * Starts busd's stand-in, a socket.io server with the connector and an HTTP
 * listener; everything is closed after the test.
 */
async function startNode(t, { welcome = {}, options = {}, serverOptions = {} } = {}) {
  const dir = tempDir();
  const socketPath = path.join(dir, "busd.sock");
  const busd = new FakeBusd(socketPath, welcome);
  await busd.listen();
  const logger = quietLogger();
  const Adapter = createAdapter({ path: socketPath, logger, initialDelayMs: 20, maxDelayMs: 100, ...options });
  const httpServer = http.createServer();
  const io = new stock.Server(httpServer, { adapter: Adapter, ...serverOptions });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const port = httpServer.address().port;
  const clients = [];
  t.after(async () => {
    for (const client of clients) client.close();
    await new Promise((resolve) => io.close(() => resolve()));
    await busd.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(() => Adapter.bus.connected, { what: "the session with the fake busd" });

  /** A real client; resolves once connected, with the server's socket and what the client received. */
  async function connect(nsp = "/", clientOptions = {}) {
    const client = stock.ioClient(`http://127.0.0.1:${port}${nsp}`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      ...clientOptions,
    });
    clients.push(client);
    const received = [];
    client.onAny((...args) => received.push(args));
    await new Promise((resolve, reject) => {
      client.once("connect", resolve);
      client.once("connect_error", reject);
    });
    const socket = io.of(nsp).sockets.get(client.id);
    return { client, socket, received, id: client.id };
  }

  return { busd, Adapter, io, port, logger, connect, nsp: io.of("/"), adapter: io.of("/").adapter };
}

/** Waits until `predicate` holds for a frame busd received after index `from`. */
function nextFrame(busd, predicate, from = 0) {
  return busd.next(predicate, { from });
}

module.exports = { startNode, nextFrame, stock };
