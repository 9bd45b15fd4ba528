"use strict";
// What busd reads and writes is socket.io's default packet format (the string
// and attachments of socket.io-parser), whatever parser the server itself
// uses: busd decodes a node's broadcast to publish the packet object, as a
// stock node does, and other nodes encode that object with their own parser.
//
// A server with the default parser hands busd its own encoding as is. A server
// with a custom parser (socket.io-msgpack-parser, say) encodes for its
// clients with it, and for busd with socket.io-parser; packets from busd are
// decoded with socket.io-parser and encoded with the server's parser.

const path = require("node:path");

let defaultParser; // socket.io-parser, once found (null: not found)

/** socket.io-parser: the one socket.io itself depends on, so it is installed wherever socket.io is. */
function loadDefaultParser() {
  if (defaultParser !== undefined) return defaultParser;
  defaultParser = null;
  const attempts = [() => require("socket.io-parser")];
  for (const from of ["socket.io", "socket.io-adapter"]) {
    attempts.push(() => require(require.resolve("socket.io-parser", { paths: [path.dirname(require.resolve(from))] })));
  }
  for (const attempt of attempts) {
    try {
      const parser = attempt();
      if (typeof parser.Encoder === "function" && typeof parser.Decoder === "function") {
        defaultParser = parser;
        break;
      }
    } catch {}
  }
  return defaultParser;
}

/** A parser's output as the list writeToEngine takes (an encoder may return one value). */
function asList(encoded) {
  return Array.isArray(encoded) ? encoded : [encoded];
}

/** Encodes a packet as socket.io-parser would, without touching it. */
function sameAsDefault(encoder, defaultEncoder, packet) {
  let ours;
  try {
    ours = asList(encoder.encode({ ...packet }));
  } catch {
    return false;
  }
  const reference = defaultEncoder.encode({ ...packet });
  return ours.length === reference.length && ours.every((part, i) => sameBytes(part, reference[i]));
}

function sameBytes(a, b) {
  if (typeof a === "string" || typeof b === "string") return a === b;
  try {
    return Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  } catch {
    return false;
  }
}

/**
 * The packet codec of one server. `compatible` is true when the server's
 * encoder writes socket.io-parser's format (then its output goes to busd
 * unchanged and busd's packets to the sockets unchanged).
 */
class WirePackets {
  constructor(encoder) {
    this.encoder = encoder;
    const parser = loadDefaultParser();
    this.defaultEncoder = parser ? new parser.Encoder() : null;
    this.Decoder = parser ? parser.Decoder : null;
    const probes = [
      { type: 2, nsp: "/", data: ["probe", 1, { a: "é" }] },
      { type: 2, nsp: "/chat", id: 7, data: ["probe", Buffer.from([1, 2, 3])] },
    ];
    this.compatible = Boolean(this.defaultEncoder) && probes.every((probe) => sameAsDefault(encoder, this.defaultEncoder, probe));
    this.parserName = describeParser(encoder);
  }

  /** Whether this server can exchange packets with busd at all. */
  get usable() {
    return this.compatible || Boolean(this.defaultEncoder);
  }

  /** The server's own encoding (what its sockets are written). */
  encode(packet) {
    return asList(this.encoder.encode(packet));
  }

  /** The packet in socket.io-parser's format for busd: { packet: string, attachments: [] }. */
  forBus(packet, ownEncoding) {
    const parts = this.compatible && ownEncoding ? ownEncoding : asList(this.defaultEncoder.encode(packet));
    return { packet: parts[0], attachments: parts.slice(1) };
  }

  /** The packet object of busd's string and attachments (null when it cannot be decoded). */
  decode(packetBytes, attachments) {
    if (!this.Decoder) return null;
    const decoder = new this.Decoder();
    let packet = null;
    decoder.on("decoded", (decoded) => (packet = decoded));
    try {
      decoder.add(packetBytes.toString("utf8"));
      for (const attachment of attachments) decoder.add(attachment);
    } catch {
      return null;
    }
    return packet;
  }
}

function describeParser(encoder) {
  const name = encoder && encoder.constructor && encoder.constructor.name;
  return name && name !== "Object" ? `a parser whose encoder is ${name}` : "a custom parser";
}

module.exports = { WirePackets, loadDefaultParser, asList };
