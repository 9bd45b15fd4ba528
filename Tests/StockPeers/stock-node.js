// A stock Socket.IO 4.8.1 server with @socket.io/redis-adapter 8.3.0 (from
// ../shared/stock-socketio), and socket.io-client sockets connected to it,
// for the busctl cluster-verb tests. Usage: node stock-node.js <redis-port> [count]
// Prints one JSON line {"ids": [...]} once its sockets are connected (each
// in room "lobby"); exits when stdin closes.
const http = require("http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");
const ioc = require("socket.io-client");

async function main() {
  const port = process.argv[2];
  const count = Number(process.argv[3] || 2);
  const pub = createClient({ url: `redis://127.0.0.1:${port}` });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  // Debian's node-redis 4.5.1 lacks sSubscribe: the adapter needs the old API.
  for (const c of [pub, sub]) c.send_command = (cmd, args, cb) => c.sendCommand([cmd, ...args]).then((r) => cb(null, r), cb);
  const server = http.createServer();
  const io = new Server(server, { adapter: createAdapter(pub, sub) });
  io.on("connection", (socket) => socket.join("lobby"));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const ids = [];
  for (let i = 0; i < count; i++) {
    const client = ioc(`http://127.0.0.1:${server.address().port}`, { transports: ["websocket"] });
    await new Promise((resolve) => client.on("connect", resolve));
    ids.push(client.id);
  }
  process.stdout.write(JSON.stringify({ ids }) + "\n");
}

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
main().catch((error) => {
  process.stderr.write(String(error && error.stack) + "\n");
  process.exit(1);
});
