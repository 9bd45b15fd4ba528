"use strict";
// Confirmation records (README "Delivery confirmations"): JSON published on
// `<prefix>:acks:<message id>` and appended to the list of that name. A
// record that is not one of the two documented shapes is skipped (null),
// never thrown: anyone can publish on the channel.

const STATUSES = new Set(["delivered", "timeout", "disconnected"]);

function parseRecord(text) {
  let value;
  try {
    value = JSON.parse(Buffer.isBuffer(text) ? text.toString("utf8") : String(text));
  } catch {
    return null;
  }
  if (!value || typeof value !== "object" || Array.isArray(value) || typeof value.messageId !== "string") return null;
  if (value.type === "dispatched") {
    if (typeof value.node !== "string" || !Array.isArray(value.sockets)) return null;
    if (!value.sockets.every((socket) => typeof socket === "string")) return null;
    return value;
  }
  if (value.type === "confirmation") {
    if (typeof value.socketId !== "string" || !STATUSES.has(value.status)) return null;
    // busd writes `"args":null` for timeout and disconnected.
    if (value.args !== undefined && value.args !== null && !Array.isArray(value.args)) return null;
    return value;
  }
  return null;
}

/** The channel (and list key) of a message id's records. */
function acksChannel(prefix, messageId) {
  return `${prefix}:acks:${messageId}`;
}

module.exports = { parseRecord, acksChannel };
