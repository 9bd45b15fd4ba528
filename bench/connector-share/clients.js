"use strict";
// Real socket.io-client 4.8.1 connections (WebSocket only) for
// bench/connector-share/run.js. Each counts the "toRoom" events it receives;
// the process reports when the total reaches what it was told to expect.
//
//   clients.js <port> <count>     IPC: {cmd: "expect", total} -> {reached, received}

require("../cluster-calls/stock-path");
const { io } = require("socket.io-client");

const [port, count] = process.argv.slice(2).map(Number);
const clients = [];
let received = 0;
let expected = Infinity;
let notify = null;

function open() {
  return new Promise((resolve, reject) => {
    const client = io(`http://127.0.0.1:${port}`, { transports: ["websocket"], forceNew: true, reconnection: false });
    client.on("toRoom", () => {
      received++;
      if (received >= expected && notify) {
        notify();
        notify = null;
      }
    });
    client.once("connect", resolve);
    client.once("connect_error", reject);
    clients.push(client);
  });
}

process.on("message", (message) => {
  if (message.cmd === "expect") {
    received = 0;
    expected = message.total;
    notify = () => process.send({ reached: true, received });
    process.send({ armed: true });
  } else if (message.cmd === "count") {
    process.send({ count: true, received });
  } else if (message.cmd === "exit") {
    for (const c of clients) c.close();
    setTimeout(() => process.exit(0), 100);
  }
});

(async () => {
  for (let i = 0; i < count; i += 100) await Promise.all(Array.from({ length: Math.min(100, count - i) }, open));
  process.send({ connected: clients.length });
})().catch((err) => {
  process.stderr.write(`clients: ${err.stack || err}\n`);
  process.exit(1);
});
