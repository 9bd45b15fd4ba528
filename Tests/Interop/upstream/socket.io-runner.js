"use strict";
// socket.io 4.8.1's server tests as its test/index.ts runs them, less two
// files that need packages Debian does not have (socket.io-client 2.x for
// v2-compatibility, uWebSockets.js for uws): run.py reports them skipped.

const path = require("node:path");

const test = path.join(process.env.INTEROP_UPSTREAM_BUILD, "test");
const files = [
  "server-attachment",
  "handshake",
  "close",
  "namespaces",
  "socket",
  "messaging-many",
  "middleware",
  "socket-middleware",
  "socket-timeout",
  "utility-methods",
  "connection-state-recovery",
];

describe("socket.io", () => {
  for (const file of files) require(path.join(test, file));
});
