"use strict";
// Stands where socket.io's server tests import their package (".."): the
// stock socket.io 4.8.1, or with INTEROP_UPSTREAM_MODE=connector the same
// Server whose default adapter is the socketbus connector (linked to the busd
// run.py started). A test that passes its own adapter keeps it.

const path = require("node:path");
const stock = require("socket.io");

let Server = stock.Server;
if (process.env.INTEROP_UPSTREAM_MODE === "connector") {
  const { createAdapter } = require(process.env.INTEROP_CONNECTOR || path.join(process.env.INTEROP_ROOT, "clients/node"));
  const Connector = createAdapter({ path: process.env.INTEROP_BUSD_SOCKET });
  Server = class ConnectorServer extends stock.Server {
    constructor(srv, opts = {}) {
      // socket.io's own overload: new Server(opts) has no http server or port.
      if (typeof srv === "object" && srv instanceof Object && !srv.listen) {
        opts = srv;
        srv = undefined;
      }
      super(srv, { adapter: Connector, ...opts });
    }
  };
}

function io(srv, opts) {
  return new Server(srv, opts);
}

module.exports = Object.assign(io, stock, { Server, default: io });
