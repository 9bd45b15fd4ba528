"use strict";
// Makes require() find the stock packages of ../shared/stock-socketio and
// Debian's node modules, as NODE_PATH does in that folder's README.
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");

const STOCK = process.env.SOCKETBUS_STOCK_SOCKETIO || path.resolve(__dirname, "../../../shared/stock-socketio");
const MODULES = path.join(STOCK, "node_modules");
if (!fs.existsSync(path.join(MODULES, "socket.io"))) {
  throw new Error(`CANNOT RUN: the stock socket.io packages are not at ${MODULES} (set SOCKETBUS_STOCK_SOCKETIO)`);
}
process.env.NODE_PATH = [MODULES, "/usr/share/nodejs", ...(process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean)].join(path.delimiter);
Module._initPaths();
module.exports = { STOCK, MODULES };
