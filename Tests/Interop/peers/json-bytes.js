"use strict";
// How the interop peers carry bytes through their JSON control channel.

// Bytes in results and received events go out as {"$binary": "<hex>"}, so
// that they cannot be mistaken for an object that merely looks like a
// serialized Buffer ({"type": "Buffer", "data": [...]}).
function keepBytes(key, value) {
  const original = this[key];
  if (Buffer.isBuffer(original) || original instanceof Uint8Array) return { $binary: Buffer.from(original).toString("hex") };
  if (original instanceof ArrayBuffer) return { $binary: Buffer.from(original).toString("hex") };
  return value;
}

// JSON has no bytes: {"$binary": "<hex>"} in a call's args stands for a Buffer.
function decodeArgs(list) {
  return (list || []).map((arg) =>
    arg && typeof arg === "object" && typeof arg.$binary === "string" ? Buffer.from(arg.$binary, "hex") : arg,
  );
}

module.exports = { keepBytes, decodeArgs };
