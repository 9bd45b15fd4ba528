"use strict";
// Runs @socket.io/redis-adapter 8.3.0's own suites (test/index.ts and
// test/specifics.ts, transpiled by run.py into $INTEROP_UPSTREAM_BUILD) on
// three servers on one redis-server, as its test-runner does for
// "redis@4 standalone", with one of the three servers made a socketbus
// server (the connector of this tree and its busd) by $INTEROP_UPSTREAM_MODE:
//   stock   all three stock (@socket.io/redis-adapter 8.3.0)
//   called  the first server created, servers[0] (the one most tests call)
//   other   the second server created, servers[1]

const path = require("node:path");

const build = process.env.INTEROP_UPSTREAM_BUILD;
const mode = process.env.INTEROP_UPSTREAM_MODE || "stock";
const socketbusIndex = { stock: -1, called: 0, other: 1 }[mode];
// INTEROP_UPSTREAM_CHANNEL=specific: the stock servers use publishOnSpecificResponseChannel,
// as upstream's "redis@4 standalone (specific response channel)" run does.
const specific = process.env.INTEROP_UPSTREAM_CHANNEL === "specific";
const root = process.env.INTEROP_ROOT || path.resolve(__dirname, "../../..");

let created = 0;

async function createStockAdapter() {
  const { createClient } = require("redis");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const pubClient = createClient({ url: process.env.INTEROP_REDIS_URL });
  const subClient = pubClient.duplicate();
  // Debian's node-redis 4.5.1 lacks sSubscribe: the adapter then uses the old API (../shared/stock-socketio/README.md).
  for (const c of [pubClient, subClient]) {
    c.send_command = (cmd, list, cb) => c.sendCommand([cmd, ...list]).then((r) => cb(null, r), cb);
  }
  await Promise.all([pubClient.connect(), subClient.connect()]);
  return [
    createAdapter(pubClient, subClient, { requestsTimeout: 1000, publishOnSpecificResponseChannel: specific }),
    () => {
      pubClient.disconnect();
      subClient.disconnect();
    },
  ];
}

async function createSocketbusAdapter() {
  const { createAdapter } = require(process.env.INTEROP_CONNECTOR || path.join(root, "clients/node"));
  return [createAdapter({ path: process.env.INTEROP_BUSD_SOCKET, requestsTimeout: 1000 }), () => {}];
}

function createAdapter() {
  const index = created++ % 3;
  return index === socketbusIndex ? createSocketbusAdapter() : createStockAdapter();
}

// upstream's util.setup orders the servers as their first client connects;
// a socketbus server may connect later than it was created. Put it where the
// setting says (the three arrays stay aligned: util.setup fills them together).
const util = require(path.join(build, "util.js"));
const setup = util.setup;
util.setup = async (factory) => {
  const context = await setup(factory);
  if (socketbusIndex >= 0) {
    const order = context.servers.map((server, i) => i);
    const found = order.find((i) => isSocketbus(context.servers[i]));
    if (found !== undefined && found !== socketbusIndex) {
      const rest = order.filter((i) => i !== found);
      rest.splice(socketbusIndex, 0, found);
      for (const key of ["servers", "serverSockets", "clientSockets"]) {
        const copy = rest.map((i) => context[key][i]);
        context[key].splice(0, copy.length, ...copy);
      }
    }
  }
  return context;
};

function isSocketbus(server) {
  return !("pubClient" in server.of("/").adapter);
}

const common = require(path.join(build, "index.js"));
const specifics = require(path.join(build, "specifics.js"));

describe(`redis-adapter 8.3.0 [${mode}${specific ? ", specific response channel" : ""}]`, () => {
  common.testSuite(createAdapter);
  specifics.testSuite(createAdapter, "redis@4", false);
});
