"use strict";
// One Socket.IO 4.8.1 server of the interop cluster, as its own process:
//
//   node server.js --name A --port 8001 --adapter stock --redis redis://127.0.0.1:6379
//   node server.js --name S --port 8002 --adapter socketbus --busd-socket /tmp/x/busd.sock
//
// `stock` is @socket.io/redis-adapter 8.3.0 on node-redis (with the
// send_command shim ../shared/stock-socketio/README.md gives); `socketbus` is
// the connector of this tree (clients/node) talking to its busd. The test
// drives the server through POST /control (JSON in, JSON out) on the same
// port: every call of the adapter API, run here, answered with its result or
// its error message.

const http = require("node:http");
const path = require("node:path");
const { Server } = require("socket.io");

function parseArgs(argv) {
  const args = { requestsTimeout: 1000, key: "socket.io" };
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    args[name] = argv[i + 1];
  }
  args.port = Number(args.port);
  args.requestsTimeout = Number(args.requestsTimeout);
  return args;
}

const args = parseArgs(process.argv);
// How this server's serverSideEmit handlers answer: "ack" (at once), "never",
// or a delay in ms before acking. Set with the `configure` call.
const behaviour = { serverSideEmit: "ack" };
const received = []; // serverSideEmit events this server's handlers got

async function makeAdapter() {
  if (args.adapter === "stock" && args.shardedMode) {
    // createShardedAdapter on a small RESP client (node-redis 4.5.1 has no
    // sSubscribe/sPublish): see sharded-redis.js.
    const { ShardedRedis } = require("./sharded-redis");
    const { createShardedAdapter } = require("@socket.io/redis-adapter");
    const pub = new ShardedRedis(args.redis);
    const sub = new ShardedRedis(args.redis);
    for (const c of [pub, sub]) c.on("error", (error) => console.error(`redis: ${error.message}`));
    await Promise.all([pub.connect(), sub.connect()]);
    return createShardedAdapter(pub, sub, { channelPrefix: args.key, subscriptionMode: args.shardedMode });
  }
  if (args.adapter === "stock") {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: args.redis });
    const sub = pub.duplicate();
    for (const c of [pub, sub]) {
      c.on("error", (error) => console.error(`redis: ${error.message}`));
      c.send_command = (cmd, list, cb) => c.sendCommand([cmd, ...list]).then((r) => cb(null, r), cb);
    }
    await Promise.all([pub.connect(), sub.connect()]);
    return createAdapter(pub, sub, { key: args.key, requestsTimeout: args.requestsTimeout });
  }
  if (args.adapter === "socketbus") {
    const root = process.env.INTEROP_ROOT || path.resolve(__dirname, "../../..");
    const { createAdapter } = require(process.env.INTEROP_CONNECTOR || path.join(root, "clients/node"));
    return createAdapter({ path: args.busdSocket, nodeName: args.name, requestsTimeout: args.requestsTimeout });
  }
  throw new Error(`unknown adapter ${args.adapter}`);
}

function describe(socket) {
  // What fetchSockets gives, in a form JSON keeps (rooms as an array).
  return {
    id: socket.id,
    label: socket.handshake && socket.handshake.query ? socket.handshake.query.label : undefined,
    handshake: socket.handshake,
    rooms: Array.from(socket.rooms),
    data: socket.data,
  };
}

const { keepBytes, decodeArgs } = require("./json-bytes");

function operator(io, call) {
  let op = io.of(call.nsp || "/");
  if (call.rooms && call.rooms.length) op = op.to(call.rooms);
  if (call.except && call.except.length) op = op.except(call.except);
  if (call.local) op = op.local;
  return op;
}

function settle(promise) {
  return promise.then(
    (value) => ({ value }),
    (error) => ({
      error: error && error.message !== undefined ? error.message : String(error),
      responses: error && error.responses,
    }),
  );
}

const calls = {
  // Every call's args, decoded once.
  prepare(call) {
    call.args = decodeArgs(call.args);
    return call;
  },
  async serverCount(io, call) {
    return io.of(call.nsp || "/").adapter.serverCount();
  },
  async fetchSockets(io, call) {
    return (await operator(io, call).fetchSockets()).map(describe);
  },
  async allRooms(io, call) {
    return Array.from(await io.of(call.nsp || "/").adapter.allRooms());
  },
  async socketsJoin(io, call) {
    operator(io, call).socketsJoin(call.targets);
  },
  // socketsJoin and, in the same tick, a broadcast to the rooms joined:
  // every server applies the join before the broadcast (one Redis stream).
  async socketsJoinThenBroadcast(io, call) {
    operator(io, call).socketsJoin(call.targets);
    io.of(call.nsp || "/").to(call.targets).emit(call.event, ...(call.args || []));
  },
  async socketsLeave(io, call) {
    operator(io, call).socketsLeave(call.targets);
  },
  async disconnectSockets(io, call) {
    operator(io, call).disconnectSockets(Boolean(call.close));
  },
  async serverSideEmit(io, call) {
    const nsp = io.of(call.nsp || "/");
    if (call.withAck === "promise") return nsp.serverSideEmitWithAck(call.event, ...(call.args || []));
    if (call.withAck) {
      return new Promise((resolve, reject) =>
        nsp.serverSideEmit(call.event, ...(call.args || []), (err, responses) =>
          err ? reject(Object.assign(err, { responses })) : resolve(responses),
        ),
      );
    }
    nsp.serverSideEmit(call.event, ...(call.args || []));
  },
  async broadcast(io, call) {
    let op = operator(io, call);
    if (call.volatile) op = op.volatile;
    if (call.ackTimeout === undefined) {
      op.emit(call.event, ...(call.args || []));
      return;
    }
    op = op.timeout(call.ackTimeout);
    if (call.withAck === "promise") return op.emitWithAck(call.event, ...(call.args || []));
    return new Promise((resolve, reject) =>
      op.emit(call.event, ...(call.args || []), (err, responses) =>
        err ? reject(Object.assign(err, { responses })) : resolve(responses),
      ),
    );
  },
  // The race of issue 13: join (or leave) on this server, then at once ask
  // another server (its control URL) to broadcast; answers when both are done.
  async joinThen(io, call) {
    const socket = io.of(call.nsp || "/").sockets.get(call.sid);
    if (!socket) throw new Error(`no socket ${call.sid}`);
    // Once join()/leave() has returned: a stock sharded node's join() and the
    // connector's resolve once the room's channel is subscribed.
    if (call.join !== undefined) await socket.join(call.join);
    if (call.leave !== undefined) await socket.leave(call.leave);
    const response = await fetch(call.url, { method: "POST", body: JSON.stringify(call.then) });
    return response.json();
  },
  async join(io, call) {
    const socket = io.of(call.nsp || "/").sockets.get(call.sid);
    if (!socket) throw new Error(`no socket ${call.sid}`);
    await socket.join(call.rooms);
  },
  async leave(io, call) {
    const socket = io.of(call.nsp || "/").sockets.get(call.sid);
    if (!socket) throw new Error(`no socket ${call.sid}`);
    await socket.leave(call.room);
  },
  async localRooms(io, call) {
    const socket = io.of(call.nsp || "/").sockets.get(call.sid);
    return socket ? Array.from(socket.rooms) : null;
  },
  async localSockets(io, call) {
    return Array.from(io.of(call.nsp || "/").sockets.values()).map(describe);
  },
  async configure(io, call) {
    Object.assign(behaviour, call.behaviour);
  },
  /** Whether a socketbus server's connector is linked to its busd (a stock server: always). */
  async linked(io) {
    const bus = io.of("/").adapter.bus;
    return bus ? Boolean(bus.connected) : true;
  },
  async received() {
    return received.splice(0);
  },
};

async function control(io, body) {
  const call = JSON.parse(body);
  const fn = calls[call.op];
  if (!fn || call.op === "prepare") return { error: `unknown op ${call.op}` };
  calls.prepare(call);
  const started = Date.now();
  const outcome = await settle(fn(io, call));
  outcome.ms = Date.now() - started;
  return outcome;
}

async function main() {
  const httpServer = http.createServer();
  const io = new Server(httpServer, { pingInterval: 2000, pingTimeout: 2000 });
  io.adapter(await makeAdapter());
  for (const nsp of ["/", "/other"]) {
    io.of(nsp).on("connection", (socket) => {
      const query = socket.handshake.query;
      socket.data = { label: query.label, server: args.name };
      // rooms=room1,n:123 joins "room1" and the number 123.
      const rooms = (query.rooms || "").split(",").filter(Boolean);
      socket.join(rooms.map((r) => (r.startsWith("n:") ? Number(r.slice(2)) : r)));
      socket.on("ping-server", (cb) => cb && cb(args.name));
    });
    // serverSideEmit: every event is recorded; with an ack, answered as configured.
    io.of(nsp).on("interop", (...list) => {
      const ack = typeof list[list.length - 1] === "function" ? list.pop() : undefined;
      received.push({ nsp, args: list, withAck: Boolean(ack) });
      if (!ack) return;
      const mode = behaviour.serverSideEmit;
      if (mode === "ack") ack({ from: args.name, args: list });
      else if (typeof mode === "number") setTimeout(() => ack({ from: args.name, args: list }), mode);
    });
  }
  httpServer.on("request", (req, res) => {
    if (req.url !== "/control") return; // socket.io answers its own path
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () =>
      control(io, body).then(
        (outcome) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(outcome, keepBytes));
        },
        (error) => {
          res.writeHead(500);
          res.end(String(error && error.stack));
        },
      ),
    );
  });
  httpServer.listen(args.port, "127.0.0.1", () => console.log(`server ${args.name} (${args.adapter}) on ${args.port}`));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
