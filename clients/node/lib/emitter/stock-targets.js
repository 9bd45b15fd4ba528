"use strict";
// Targets on Socket.IO servers without busd (stock @socket.io/redis-adapter
// nodes), as `busctl emit --wait-ack` reaches them: when some server
// answers requests on the namespace (PUBSUB NUMSUB of the request channel),
// ask every server for the targets' socket ids (SOCKETS, type 0; 8.x nodes
// answer with bare ids), keep those the registry does not hold, and send
// them the adapter's own acked broadcast (BROADCAST, type 7). Each server
// answers one BROADCAST_CLIENT_COUNT (type 8) and one BROADCAST_ACK (type 9)
// per client that acked, carrying its first ack argument and no socket id.

const { randomInt } = require("node:crypto");
const { performance } = require("node:perf_hooks");
const msgpack = require("./msgpack");

const SOCKETS = 0;
const BROADCAST = 7;
const BROADCAST_CLIENT_COUNT = 8;
const BROADCAST_ACK = 9;

/** A uid2(6)-like id, as the adapter's uids and request ids are. */
function adapterId() {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from({ length: 6 }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/** A response from `<key>-response#…`: JSON when it starts with "{", else msgpack; null when unreadable. */
function parseResponse(message) {
  try {
    const value = message[0] === 0x7b ? JSON.parse(message.toString("utf8")) : msgpack.decode(message);
    return value && typeof value === "object" && typeof value.requestId === "string" ? value : null;
  } catch {
    return null;
  }
}

/** Subscribes to a request uid's response channels; `onResponse(parsed)`. Resolves to an unsubscribe function. */
async function subscribeResponses(redis, key, nsp, uid, onResponse) {
  const listener = (message) => {
    const response = parseResponse(message);
    if (response) onResponse(response);
  };
  const offs = [];
  try {
    for (const channel of [`${key}-response#${nsp}#`, `${key}-response#${nsp}#${uid}#`]) {
      offs.push(await redis.subscribe(channel, listener));
    }
  } catch (error) {
    for (const off of offs) await off().catch(() => {});
    throw error;
  }
  return async () => {
    for (const off of offs) await off();
  };
}

/**
 * The targeted sockets that are on servers without busd, or null when no server answers requests or
 * every target is a socket the registry knows. { socketIds, servers, lookupComplete }
 */
async function findStockTargets(redis, { key, prefix, nsp, rooms, except, known, timeoutMs }) {
  if (rooms.length > 0 && rooms.length === known.length) return null;
  const channel = `${key}-request#${nsp}#`;
  const numsub = await redis.command(["PUBSUB", "NUMSUB", channel]);
  const servers = Number(Array.isArray(numsub) ? numsub[1] : 0);
  if (!(servers > 0)) return null;
  const uid = adapterId();
  const queries = [{ requestId: adapterId(), rooms, answered: 0, ids: [] }];
  if (except.length) queries.push({ requestId: adapterId(), rooms: except, answered: 0, ids: [] });
  let wake = () => {};
  const off = await subscribeResponses(redis, key, nsp, uid, (response) => {
    const query = queries.find((q) => q.requestId === response.requestId);
    if (!query || !Array.isArray(response.sockets)) return;
    query.ids.push(...response.sockets.filter((id) => typeof id === "string"));
    query.answered += 1;
    wake();
  });
  try {
    for (const query of queries) {
      await redis.publish(channel, JSON.stringify({ uid, requestId: query.requestId, type: SOCKETS, rooms: query.rooms }));
    }
    const deadline = Date.now() + timeoutMs;
    while (queries.some((q) => q.answered < servers) && Date.now() < deadline) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        wake = () => (clearTimeout(timer), resolve());
      });
    }
  } finally {
    await off();
  }
  const excepted = new Set(queries.slice(1).flatMap((q) => q.ids));
  const ids = [...new Set(queries[0].ids)].filter((id) => !excepted.has(id));
  const registered = new Set();
  for (let start = 0; start < ids.length; start += 1000) {
    const batch = ids.slice(start, start + 1000);
    const values = await redis.command(["HMGET", `${prefix}:owner`, ...batch]);
    if (!Array.isArray(values) || values.length !== batch.length) throw new Error("unexpected reply to HMGET");
    batch.forEach((id, i) => values[i] !== null && registered.add(id));
  }
  return {
    socketIds: ids.filter((id) => !registered.has(id)),
    servers,
    lookupComplete: Math.min(...queries.map((q) => q.answered)) >= servers,
  };
}

/** What the acked broadcast's answers told: a value the wait loop reads. */
class StockAckState {
  constructor(requestId, socketIds, servers) {
    this.requestId = requestId;
    this.socketIds = socketIds;
    this.servers = servers;
    this.serversAnswered = 0;
    this.clients = 0;
    this.acks = [];
    this.lastAckAt = null;
  }

  take(response) {
    if (response.requestId !== this.requestId) return;
    if (response.type === BROADCAST_CLIENT_COUNT && Number.isSafeInteger(response.clientCount) && response.clientCount >= 0) {
      this.serversAnswered += 1;
      this.clients += response.clientCount;
    } else if (response.type === BROADCAST_ACK) {
      this.acks.push(response.packet);
      this.lastAckAt = performance.now();
    }
  }

  get complete() {
    return this.serversAnswered >= this.servers && this.acks.length >= this.clients;
  }

  get summary() {
    const { requestId, socketIds, servers, serversAnswered, clients, acks } = this;
    return { requestId, sockets: socketIds, servers, serversAnswered, clients, acks, complete: this.complete };
  }
}

/** Subscribes for the answers, then publishes the acked broadcast. Resolves to { state, close }. */
async function publishStockBroadcast(redis, { key, nsp, data, socketIds, servers, flags, timeoutMs }) {
  const uid = adapterId();
  const state = new StockAckState(adapterId(), socketIds, servers);
  const close = await subscribeResponses(redis, key, nsp, uid, (response) => state.take(response));
  try {
    const ackFlags = { ...(flags.volatile ? { volatile: true } : {}), timeout: timeoutMs };
    const payload = msgpack.encode({
      uid,
      requestId: state.requestId,
      type: BROADCAST,
      packet: { type: 2, data, nsp },
      opts: { rooms: socketIds, except: [], flags: ackFlags },
    });
    await redis.publish(`${key}-request#${nsp}#`, payload);
  } catch (error) {
    await close();
    throw error;
  }
  return { state, close };
}

module.exports = { findStockTargets, publishStockBroadcast, StockAckState, parseResponse };
