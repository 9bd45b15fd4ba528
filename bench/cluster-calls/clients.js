"use strict";
// Real socket.io-client 4.8.1 connections (WebSocket) to one server, for
// bench/cluster-calls/run.js: `count` clients, the first `group` of them in the
// room "ack-group" (query g=1); every client acks "bench-ack" with "pong".
//
//   clients.js <port> <count> <group>

require("./stock-path");
const { io } = require("socket.io-client");

const [port, count, group] = process.argv.slice(2).map(Number);
const clients = [];
let connected = 0;
let failed = 0;

function open(i) {
  return new Promise((resolve) => {
    const client = io(`http://127.0.0.1:${port}`, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      query: { g: i < group ? "1" : "0" },
    });
    client.on("bench-ack", (_value, ack) => ack("pong"));
    client.once("connect", () => {
      connected++;
      resolve();
    });
    client.once("connect_error", () => {
      failed++;
      resolve();
    });
    clients.push(client);
  });
}

async function main() {
  // A few hundred handshakes at a time: the servers' event loops stay responsive.
  const batch = 200;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - i) }, (_, k) => open(i + k)));
    process.send({ progress: connected, failed });
  }
  process.send({ done: true, connected, failed });
}

process.on("message", (message) => {
  if (message.cmd === "exit") {
    for (const c of clients) c.close();
    setTimeout(() => process.exit(0), 100);
  }
});

main();
