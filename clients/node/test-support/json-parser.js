"use strict";
// A custom Socket.IO parser for the tests: every packet is one JSON text of
// the whole packet object. The server's encode() returns it as a single
// value (not a list), which socket.io's server accepts; socket.io-client
// needs a list, so `forClient` returns one. Binary data is sent as JSON.

const { EventEmitter } = require("node:events");

class Encoder {
  encode(packet) {
    return JSON.stringify(packet);
  }
}

class Decoder extends EventEmitter {
  add(chunk) {
    this.emit("decoded", JSON.parse(String(chunk)));
  }

  destroy() {}
}

class ListEncoder {
  encode(packet) {
    return [JSON.stringify(packet)];
  }
}

module.exports = { Encoder, Decoder, protocol: 5, forClient: { Encoder: ListEncoder, Decoder, protocol: 5 } };
