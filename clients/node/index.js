"use strict";
// @socketbus/connector: socket.io v4 adapter that links a node to its busd.
//   io.adapter(createAdapter({ path: "/run/socketbus/busd.sock" }));

const { createAdapter, SocketBusAdapter } = require("./lib/adapter");
const { BusConnection } = require("./lib/connection");
const frames = require("./lib/frames");
const { Emitter } = require("./lib/emitter");

module.exports = { createAdapter, SocketBusAdapter, BusConnection, frames, Emitter };
