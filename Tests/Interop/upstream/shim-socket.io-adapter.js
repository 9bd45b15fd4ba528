"use strict";
// Stands where socket.io-adapter's tests import their package ("../lib"):
// the stock socket.io-adapter 2.5.5, or with INTEROP_UPSTREAM_MODE=connector
// the same with Adapter and SessionAwareAdapter replaced by the socketbus
// connector's adapter class (linked to the busd run.py started).

const path = require("node:path");
const stock = require("socket.io-adapter");

if (process.env.INTEROP_UPSTREAM_MODE === "connector") {
  const { createAdapter } = require(process.env.INTEROP_CONNECTOR || path.join(process.env.INTEROP_ROOT, "clients/node"));
  const Connector = createAdapter({ path: process.env.INTEROP_BUSD_SOCKET });
  module.exports = { ...stock, Adapter: Connector, SessionAwareAdapter: Connector };
} else {
  module.exports = stock;
}
