"use strict";
// An emitter in the spirit of @socket.io/redis-emitter 5.1: the same
// chaining and, for plain emits, the same bytes on the same channel; plus
// emitWithConfirmation (busctl emit --wait-ack's behaviour for socketbus
// nodes) and the confirmation records (follow, stored).

const { randomBytes } = require("node:crypto");
const { encode } = require("./msgpack");
const { RedisAdapterClient } = require("./redis-client");
const { parseRecord, acksChannel } = require("./records");
const { ConfirmationWait } = require("./confirmation-wait");
const { follow } = require("./follow");

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
    return follow(this.redis, acksChannel(this.opts.prefix, messageId), options);
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
    const started = Date.now();

    // Targets the registry knows are sockets; anything else may be a room whose members only the nodes know.
    const known = [];
    for (const target of this.rooms) {
      if (Number(await redis.command(["HEXISTS", `${opts.prefix}:owner`, target])) === 1) known.push(target);
    }
    const wait = new ConfirmationWait({ knownSockets: known, hasRoomTargets: this.rooms.size === 0 || known.length < this.rooms.size });
    const left = Math.max(timeout - (Date.now() - started), 10);
    // busd times acks out a little before we stop waiting, so a silent client is reported as 'timeout'.
    const busdTimeout = Math.max(Math.floor(left - Math.min(left / 5, 1000)), 1);
    const { channel, payload } = this.message(ev, rest, { id: messageId, ack: true, timeout: busdTimeout });

    // Subscribed before publishing, so no record is missed.
    const feed = follow(redis, acksChannel(opts.prefix, messageId), {});
    try {
      await feed.ready;
      const receivers = await redis.publish(channel, payload);
      if (receivers > 0) await wait.run(feed, started + left);
      return wait.result(messageId, receivers);
    } finally {
      await feed.close();
    }
  }
}

module.exports = { Emitter, BroadcastOperator, RESERVED_EVENTS, isOptions };
