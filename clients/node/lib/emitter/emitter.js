"use strict";
// An emitter in the spirit of @socket.io/redis-emitter 5.1: the same
// chaining and, for plain emits, the same bytes on the same channel; plus
// emitWithConfirmation (busctl emit --wait-ack's behaviour for socketbus
// nodes) and the confirmation records (follow, stored).

const { randomBytes } = require("node:crypto");
const { performance } = require("node:perf_hooks");
const { encode } = require("./msgpack");
const { RedisAdapterClient } = require("./redis-client");
const { parseRecord, acksChannel } = require("./records");
const { ConfirmationWait } = require("./confirmation-wait");
const { follow } = require("./follow");
const { findStockTargets, publishStockBroadcast } = require("./stock-targets");

// After publishing, a quiet period with no dispatch record means no busd node had a target
// (consulted only when the stock part has some).
const QUIET_MS = 250;

const UID = "emitter";
const EVENT = 2;
const RESERVED_EVENTS = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);

class Emitter {
  /**
   * redisClient: the application's node-redis 4 or ioredis client (connected).
   * opts.key: the adapter's channel prefix ("socket.io"); opts.prefix: socketbus's key prefix ("socketbus").
   */
  constructor(redisClient, opts = {}, nsp = "/") {
    this.redis = redisClient instanceof RedisAdapterClient ? redisClient : new RedisAdapterClient(redisClient);
    this.opts = { key: "socket.io", prefix: "socketbus", ...opts };
    this.nsp = nsp;
  }

  of(nsp) {
    return new Emitter(this.redis, this.opts, (nsp[0] !== "/" ? "/" : "") + nsp);
  }

  get operator() {
    return new BroadcastOperator(this);
  }
  to(room) { return this.operator.to(room); }
  in(room) { return this.operator.in(room); }
  except(room) { return this.operator.except(room); }
  get volatile() { return this.operator.volatile; }
  compress(value) { return this.operator.compress(value); }
  emit(ev, ...args) { return this.operator.emit(ev, ...args); }
  emitWithConfirmation(ev, ...args) { return this.operator.emitWithConfirmation(ev, ...args); }
  socketsJoin(rooms) { return this.operator.socketsJoin(rooms); }
  socketsLeave(rooms) { return this.operator.socketsLeave(rooms); }
  disconnectSockets(close = false) { return this.operator.disconnectSockets(close); }

  /** A SERVER_SIDE_EMIT request (JSON, as the stock emitter sends it; no ack possible). */
  serverSideEmit(...args) {
    if (typeof args.at(-1) === "function") throw new Error("Acknowledgements are not supported");
    this.request({ uid: UID, type: 6, data: args });
  }

  request(body) {
    this.redis.publish(`${this.opts.key}-request#${this.nsp}#`, JSON.stringify(body)).catch(() => {});
  }

  /** Every record of a message id as it is published: an async iterator, or `onRecord` called per record. */
  follow(messageId, options = {}) {
    return follow(this.redis, acksChannel(this.opts.prefix, messageId), { ...options, messageId });
  }

  /** The records stored for a message id (`LRANGE <prefix>:acks:<id> 0 -1`, as busctl acks); malformed ones left out. */
  async storedRecords(messageId) {
    const items = await this.redis.lrange(acksChannel(this.opts.prefix, messageId), 0, -1);
    return items.map(parseRecord).filter(Boolean);
  }

  /** Closes the emitter's subscriber connection (the application's client stays open). */
  close() {
    return this.redis.close();
  }
}

function isOptions(value) {
  if (!value || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.keys(value).every((key) => key === "timeout" || key === "id");
}

class BroadcastOperator {
  constructor(emitter, rooms = new Set(), exceptRooms = new Set(), flags = {}) {
    this.emitter = emitter;
    this.rooms = rooms;
    this.exceptRooms = exceptRooms;
    this.flags = flags;
  }

  to(room) {
    const rooms = new Set(this.rooms);
    for (const r of Array.isArray(room) ? room : [room]) rooms.add(r);
    return new BroadcastOperator(this.emitter, rooms, this.exceptRooms, this.flags);
  }
  in(room) {
    return this.to(room);
  }
  except(room) {
    const exceptRooms = new Set(this.exceptRooms);
    for (const r of Array.isArray(room) ? room : [room]) exceptRooms.add(r);
    return new BroadcastOperator(this.emitter, this.rooms, exceptRooms, this.flags);
  }
  compress(compress) {
    return new BroadcastOperator(this.emitter, this.rooms, this.exceptRooms, { ...this.flags, compress });
  }
  get volatile() {
    return new BroadcastOperator(this.emitter, this.rooms, this.exceptRooms, { ...this.flags, volatile: true });
  }

  /** The stock emitter's message and channel; `socketbus` adds opts.socketbus. */
  message(ev, args, socketbus) {
    if (RESERVED_EVENTS.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const nsp = this.emitter.nsp;
    const opts = { rooms: [...this.rooms], flags: this.flags, except: [...this.exceptRooms] };
    if (socketbus) opts.socketbus = socketbus;
    const payload = encode([UID, { type: EVENT, data: [ev, ...args], nsp }, opts]);
    let channel = `${this.emitter.opts.key}#${nsp}#`;
    if (this.rooms.size === 1) channel += `${[...this.rooms][0]}#`;
    return { channel, payload };
  }

  /** REMOTE_JOIN / REMOTE_LEAVE / REMOTE_DISCONNECT requests, as the stock emitter sends them. */
  socketsJoin(rooms) {
    this.emitter.request({ type: 2, opts: this.targets(), rooms: Array.isArray(rooms) ? rooms : [rooms] });
  }
  socketsLeave(rooms) {
    this.emitter.request({ type: 3, opts: this.targets(), rooms: Array.isArray(rooms) ? rooms : [rooms] });
  }
  disconnectSockets(close = false) {
    this.emitter.request({ type: 4, opts: this.targets(), close });
  }
  targets() {
    return { rooms: [...this.rooms], except: [...this.exceptRooms] };
  }

  /** Publishes like the stock emitter (returns true; the PUBLISH runs in the background, errors ignored as there). */
  emit(ev, ...args) {
    const { channel, payload } = this.message(ev, args);
    this.emitter.redis.publish(channel, payload).catch(() => {});
    return true;
  }

  /**
   * emitWithConfirmation(ev, ...args, { timeout = 10000, id })
   * Resolves to { messageId, receivers, outcomes: [{ socketId, status, node, args?, latencyMs }],
   * unanswered: [socket ids], delivered, expected, complete }.
   */
  async emitWithConfirmation(ev, ...rest) {
    // The last argument is the options when it is a plain object with no keys but `timeout` and `id`
    // (pass `{}` last to send such an object as data).
    const options = isOptions(rest.at(-1)) ? rest.pop() : {};
    const timeout = options.timeout ?? 10000;
    if (!(Number.isFinite(timeout) && timeout >= 10)) throw new RangeError("timeout must be at least 10 ms");
    const messageId = options.id ?? `emitter-${randomBytes(8).toString("hex")}`;
    if (typeof messageId !== "string" || messageId === "") throw new TypeError("id must be a non-empty string");
    const { redis, opts } = this.emitter;
    const nsp = this.emitter.nsp;
    const started = Date.now();
    const rooms = [...this.rooms];
    const except = [...this.exceptRooms];
    // Fails before anything is subscribed.
    this.message(ev, rest);

    // Targets the registry knows are sockets; anything else may be a room whose members only the nodes know.
    // One HMGET for every target (rooms are strings here; typed rooms are not socket ids).
    const known = [];
    const candidates = rooms.filter((room) => typeof room === "string");
    if (candidates.length) {
      const values = await redis.command(["HMGET", `${opts.prefix}:owner`, ...candidates]);
      if (!Array.isArray(values) || values.length !== candidates.length) throw new Error("unexpected reply to HMGET");
      candidates.forEach((room, i) => values[i] !== null && known.push(room));
    }
    // Sockets on servers without busd: found by asking every server (at most a third of the timeout, 2 s).
    const stockTargets = await findStockTargets(redis, {
      key: opts.key, prefix: opts.prefix, nsp, rooms, except, known, timeoutMs: Math.min(timeout / 3, 2000),
    });
    const stockIds = stockTargets?.socketIds ?? [];
    const left = Math.max(timeout - (Date.now() - started), 10);
    const deadline = Date.now() + left;
    // busd times acks out a little before we stop waiting, so a silent client is reported as 'timeout'.
    const busdTimeout = Math.max(Math.floor(left - Math.min(left / 5, 1000)), 1);
    // Those sockets get the adapter's acked broadcast instead, so nobody gets the event twice.
    const operator = stockIds.length ? this.except(stockIds.filter((id) => !this.exceptRooms.has(id))) : this;
    const { channel, payload } = operator.message(ev, rest, { id: messageId, ack: true, timeout: busdTimeout });
    const stockSet = new Set(stockIds);
    const knownSet = new Set(known);
    // Not published when every target is a socket on a server without busd.
    const socketbusPart = stockIds.length === 0 || rooms.length === 0 || !rooms.every((room) => stockSet.has(room));
    const wait = socketbusPart
      ? new ConfirmationWait({
          knownSockets: known,
          hasRoomTargets: rooms.length === 0 || rooms.some((room) => !knownSet.has(room) && !stockSet.has(room)),
        })
      : null;

    // Subscribed before publishing, so no record is missed.
    const feed = follow(redis, acksChannel(opts.prefix, messageId), { messageId });
    let stock = null;
    try {
      await feed.ready;
      if (stockIds.length) {
        stock = await publishStockBroadcast(redis, {
          key: opts.key, nsp, data: [ev, ...rest], socketIds: stockIds, servers: stockTargets.servers,
          flags: this.flags, timeoutMs: left,
        });
      }
      const receivers = socketbusPart ? await redis.publish(channel, payload) : 0;
      const publishedAt = Date.now();
      const publishedAtPrecise = performance.now();
      const settled = () => {
        const now = Date.now();
        const socketbusDone = !wait || receivers === 0 || wait.isComplete(now) ||
          (stock !== null && wait.expected.length === 0 && wait.nodes.size === 0 && now - publishedAt >= QUIET_MS);
        return socketbusDone && (!stock || stock.state.complete);
      };
      while (!settled() && Date.now() < deadline) {
        // Short polls: a quiet period may be running out, and the stock answers arrive beside the feed.
        const record = await feed.next(Math.min(deadline - Date.now(), stock ? 10 : 50));
        if (record && wait) wait.take(record);
      }
      const result = wait ? wait.result(messageId, receivers) : new ConfirmationWait({ knownSockets: [], hasRoomTargets: false }).result(messageId, 0);
      const lastOutcome = Math.max(wait?.lastOutcomeAt ?? -Infinity, stock?.state.lastAckAt ?? -Infinity);
      // Publish → last outcome (per-socket confirmation or stock ack), and → resolve (includes any quiet period).
      result.timing = {
        lastOutcomeMs: Number.isFinite(lastOutcome) ? lastOutcome - publishedAtPrecise : null,
        resolvedMs: performance.now() - publishedAtPrecise,
      };
      if (stock) {
        result.stock = stock.state.summary;
        // No busd node had a target (nothing expected, nobody dispatched): only the stock part counts.
        const socketbusDone = !wait || result.complete || (result.expected === 0 && result.nodes.length === 0);
        result.complete = socketbusDone && stock.state.complete;
      }
      if (stockTargets && !stockTargets.lookupComplete) {
        result.lookupComplete = false;
        result.complete = false;
      }
      return result;
    } finally {
      await feed.close();
      if (stock) await stock.close();
    }
  }
}

module.exports = { Emitter, BroadcastOperator, RESERVED_EVENTS, isOptions };
