"use strict";
// Real socket.io 4.8.1 (server and client) for the connector's tests, from
// ../shared/stock-socketio (built from upstream's tagged sources; its README
// says how to load it) or SOCKETBUS_STOCK_SOCKETIO. Debian's node modules
// (ws, debug, cookie, ...) come from /usr/share/nodejs, as that README says.
//
// Where the stock packages are absent (a clone without ../shared), `stock` is
// null and `skipReason` says why: the tests that need them are skipped with
// that message, never run against a stand-in.

const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");

const ROOT = path.resolve(__dirname, "../../..");
const STOCK_DIR = process.env.SOCKETBUS_STOCK_SOCKETIO || path.resolve(ROOT, "../shared/stock-socketio");
const MODULES = path.join(STOCK_DIR, "node_modules");
const DEBIAN = "/usr/share/nodejs";

function load() {
  if (!fs.existsSync(path.join(MODULES, "socket.io"))) {
    return { stock: null, skipReason: `CANNOT RUN: real socket.io 4.8.1 not found at ${MODULES} (set SOCKETBUS_STOCK_SOCKETIO to a folder holding node_modules/socket.io)` };
  }
  // What NODE_PATH="$MODULES:/usr/share/nodejs" does, for this process.
  const extra = [MODULES, DEBIAN].filter((dir) => fs.existsSync(dir));
  const current = (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean);
  process.env.NODE_PATH = [...extra, ...current.filter((dir) => !extra.includes(dir))].join(path.delimiter);
  Module._initPaths();
  try {
    const { Server } = require("socket.io");
    const { io: ioClient } = require("socket.io-client");
    const parser = require("socket.io-parser");
    const version = require(path.join(MODULES, "socket.io", "package.json")).version;
    return { stock: { Server, ioClient, parser, version, modules: MODULES }, skipReason: null };
  } catch (err) {
    return { stock: null, skipReason: `CANNOT RUN: the stock socket.io packages at ${MODULES} do not load (${err.message}); see its README for the Debian packages they need` };
  }
}

const { stock, skipReason } = load();
if (skipReason) process.stderr.write(`socketbus connector tests: ${skipReason}\n`);

module.exports = { stock, skipReason, STOCK_DIR };
