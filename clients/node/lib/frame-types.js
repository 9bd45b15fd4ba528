"use strict";
// The local protocol's vocabulary: versions, frame type bytes, each type's
// field layout, error codes, the flags byte; shared by the encoder and the
// decoder in frames.js (docs/local-protocol.md, docs/local-protocol-v2.md).

/** The newest version this connector speaks (HELLO), and every one it accepts in WELCOME. */
const VERSION = 2;
const VERSIONS = [1, 2];
const MAX_LENGTH = 16 * 1024 * 1024;

const TYPES = {
  HELLO: 0x01,
  WELCOME: 0x02,
  ERROR: 0x03,
  PING: 0x04,
  PONG: 0x05,
  SOCKET_CONNECT: 0x10,
  SOCKET_DISCONNECT: 0x11,
  SOCKET_JOIN: 0x12,
  SOCKET_LEAVE: 0x13,
  BROADCAST: 0x14,
  DELIVER: 0x20,
  ACKED: 0x21,
  SOCKETS_JOIN: 0x22,
  SOCKETS_LEAVE: 0x23,
  SOCKETS_DISCONNECT: 0x24,
  SERVER_SIDE_EMIT: 0x25,
  // version 2
  NAMESPACE: 0x15,
  ROOMS_JOIN: 0x16,
  ROOMS_LEAVE: 0x17,
  ROOMS_BROADCAST: 0x18,
  DELIVERED: 0x19,
  ANSWER: 0x1a,
  CLUSTER_REQUEST: 0x1b,
  BROADCAST_WITH_ACK: 0x1c,
  DELIVER_TO_ROOMS: 0x26,
  APPLY: 0x27,
  QUESTION: 0x28,
  CLUSTER_REPLY: 0x29,
  ACK_COUNT: 0x2a,
  ACK_ARGUMENT: 0x2b,
};
/** The frame types added in version 2 (an error on a v1 session). */
const V2_TYPES = new Set([
  "NAMESPACE", "ROOMS_JOIN", "ROOMS_LEAVE", "ROOMS_BROADCAST", "DELIVERED", "ANSWER", "CLUSTER_REQUEST",
  "BROADCAST_WITH_ACK", "DELIVER_TO_ROOMS", "APPLY", "QUESTION", "CLUSTER_REPLY", "ACK_COUNT", "ACK_ARGUMENT",
]);

/** CLUSTER_REQUEST kinds (the adapter call the node's application made). */
const REQUEST_KINDS = {
  SERVER_COUNT: 1, FETCH_SOCKETS: 2, ALL_ROOMS: 3, ADD_SOCKETS: 4, DEL_SOCKETS: 5,
  DISCONNECT_SOCKETS: 6, SERVER_SIDE_EMIT: 7, SERVER_SIDE_EMIT_WITH_ACK: 8,
  // Not an adapter call: join() waits until busd has its new rooms' channels subscribed.
  ROOMS_SUBSCRIBED: 9,
  // Not an adapter call: busd may drop broadcasts no socket of this node can get (once per session).
  REGISTRY_FILTER: 10,
};
/** CLUSTER_REPLY status. */
const REPLY_STATUS = { COMPLETE: 0, TIMED_OUT: 1, FAILED: 2 };
/** QUESTION kinds and ANSWER status. */
const QUESTION_KINDS = { FETCH: 1, SERVER_SIDE_EMIT: 2, CUSTOM: 3 };
const ANSWER_STATUS = { ANSWERED: 0, CANNOT_ANSWER: 1 };
/** APPLY ops. */
const APPLY_OPS = { JOIN: 1, LEAVE: 2, DISCONNECT: 3 };
const NAMES = new Map(Object.entries(TYPES).map(([name, byte]) => [byte, name]));

const ERROR_CODES = {
  MALFORMED: 1,
  UNSUPPORTED_VERSION: 2,
  UNEXPECTED: 3,
  TOO_LARGE: 4,
  SHUTTING_DOWN: 5,
  // busd could not use one well-formed frame (a BROADCAST packet it cannot
  // decode, say): that frame was skipped, the connection stays.
  UNUSABLE_CONTENT: 6,
  TOO_MANY_CONNECTIONS: 7,
  HANDSHAKE_TIMEOUT: 8,
};

const ACK_STATUS = { DELIVERED: 1, TIMEOUT: 2, DISCONNECTED: 3 };

// Each frame type's body, in order. Field kinds: u8, u16, u32, u64 (Number),
// token (u64 as BigInt), bool (u8), flags (u8 <-> {volatile, compress}),
// string, strings, blob, blobs, json (a blob holding a JSON array, which the
// protocol requires of ACKED; SERVER_SIDE_EMIT's JSON is left to the adapter),
// value (v2: a blob holding any JSON value, empty for `undefined`), rooms
// (v2: count + typed rooms; a number is a numeric room, anything else a name).
const LAYOUTS = {
  HELLO: [["version", "u16"], ["node", "string"], ["pid", "u32"]],
  WELCOME: [["version", "u16"], ["uid", "string"], ["nodeId", "string"], ["ackIdBase", "u64"], ["ackTimeoutMs", "u32"]],
  ERROR: [["code", "u16"], ["message", "string"]],
  PING: [["token", "token"]],
  PONG: [["token", "token"]],
  SOCKET_CONNECT: [["namespace", "string"], ["socketId", "string"], ["connectedAt", "u64"]],
  SOCKET_DISCONNECT: [["namespace", "string"], ["socketId", "string"], ["reason", "string"]],
  SOCKET_JOIN: [["namespace", "string"], ["socketId", "string"], ["rooms", "strings"]],
  SOCKET_LEAVE: [["namespace", "string"], ["socketId", "string"], ["rooms", "strings"]],
  BROADCAST: [
    ["namespace", "string"], ["flags", "flags"], ["rooms", "strings"], ["except", "strings"],
    ["packet", "blob"], ["attachments", "blobs"],
  ],
  DELIVER: [
    ["ackId", "u64"], ["flags", "flags"], ["namespace", "string"], ["socketIds", "strings"],
    ["packet", "blob"], ["attachments", "blobs"],
  ],
  ACKED: [["ackId", "u64"], ["socketId", "string"], ["status", "status"], ["arguments", "json"]],
  SOCKETS_JOIN: [["namespace", "string"], ["socketIds", "strings"], ["rooms", "strings"]],
  SOCKETS_LEAVE: [["namespace", "string"], ["socketIds", "strings"], ["rooms", "strings"]],
  SOCKETS_DISCONNECT: [["namespace", "string"], ["socketIds", "strings"], ["close", "bool"]],
  SERVER_SIDE_EMIT: [["namespace", "string"], ["data", "blob"]],
  NAMESPACE: [["namespace", "string"]],
  ROOMS_JOIN: [["namespace", "string"], ["socketId", "string"], ["rooms", "rooms"]],
  ROOMS_LEAVE: [["namespace", "string"], ["socketId", "string"], ["rooms", "rooms"]],
  ROOMS_BROADCAST: [
    ["namespace", "string"], ["flags", "flags"], ["rooms", "rooms"], ["except", "rooms"],
    ["packet", "blob"], ["attachments", "blobs"],
  ],
  DELIVERED: [["ackId", "u64"], ["namespace", "string"], ["socketIds", "strings"]],
  ANSWER: [["request", "u32"], ["status", "u8"], ["body", "value"]],
  CLUSTER_REQUEST: [["request", "u32"], ["kind", "u8"], ["namespace", "string"], ["timeoutMs", "u32"], ["body", "value"]],
  BROADCAST_WITH_ACK: [
    ["request", "u32"], ["namespace", "string"], ["flags", "flags"], ["rooms", "rooms"], ["except", "rooms"],
    ["timeoutMs", "u32"], ["packet", "blob"], ["attachments", "blobs"],
  ],
  DELIVER_TO_ROOMS: [
    ["ackId", "u64"], ["flags", "flags"], ["namespace", "string"], ["rooms", "rooms"], ["except", "rooms"],
    ["packet", "blob"], ["attachments", "blobs"],
  ],
  APPLY: [["op", "u8"], ["namespace", "string"], ["rooms", "rooms"], ["except", "rooms"], ["targets", "rooms"], ["close", "bool"]],
  QUESTION: [["request", "u32"], ["kind", "u8"], ["namespace", "string"], ["body", "value"]],
  CLUSTER_REPLY: [["request", "u32"], ["status", "u8"], ["body", "value"]],
  ACK_COUNT: [["request", "u32"], ["clientCount", "u32"]],
  ACK_ARGUMENT: [["request", "u32"], ["argument", "value"]],
};

/** A frame that breaks the protocol; `code` is the ERROR frame's code. */
class ProtocolError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

function malformed(message) {
  return new ProtocolError(ERROR_CODES.MALFORMED, message);
}

// ---- flags byte: bit 0 volatile, bit 1 compress given, bit 2 its value ----

function flagsToByte(flags = {}) {
  let byte = flags.volatile ? 1 : 0;
  if (flags.compress !== undefined && flags.compress !== null) byte |= flags.compress ? 6 : 2;
  return byte;
}

function flagsFromByte(byte) {
  return { volatile: (byte & 1) !== 0, compress: (byte & 2) !== 0 ? (byte & 4) !== 0 : undefined };
}

module.exports = {
  VERSION,
  VERSIONS,
  MAX_LENGTH,
  TYPES,
  V2_TYPES,
  REQUEST_KINDS,
  REPLY_STATUS,
  QUESTION_KINDS,
  ANSWER_STATUS,
  APPLY_OPS,
  NAMES,
  ERROR_CODES,
  ACK_STATUS,
  LAYOUTS,
  ProtocolError,
  malformed,
  flagsToByte,
  flagsFromByte,
};
