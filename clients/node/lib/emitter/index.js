"use strict";
const { Emitter, BroadcastOperator } = require("./emitter");
const { parseRecord, acksChannel } = require("./records");
const { encode: encodeMsgpack } = require("./msgpack");

module.exports = { Emitter, BroadcastOperator, parseRecord, acksChannel, encodeMsgpack };
