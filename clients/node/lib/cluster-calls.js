"use strict";
// The adapter API's cluster calls, as @socket.io/redis-adapter 8.3.0 makes
// them, carried by busd (protocol v2: CLUSTER_REQUEST / CLUSTER_REPLY,
// BROADCAST_WITH_ACK / ACK_COUNT / ACK_ARGUMENT). busd publishes the request,
// counts the servers with NUMSUB, collects the other servers' answers and
// enforces the time-out; this node adds its own part, as the stock adapter
// does. Results, partial results and error messages are the stock adapter's.
//
// On a v1 session the calls act on this node only (the limits of protocol
// v1). While busd is away (after a v2 session, or before the first), a call
// that asks the other servers waits for the next session within its time-out,
// and one that only publishes waits in the bounded queue of the broadcasts,
// as the stock adapter's Redis client queues its commands while it reconnects.

const { REQUEST_KINDS, REPLY_STATUS } = require("./frames");

const MAX_U32 = 0xffffffff;
const MAX_TIMER_MS = 2 ** 31 - 1;

function timeoutField(ms) {
  const n = Math.round(Number(ms));
  return Number.isFinite(n) && n > 0 ? Math.min(n, MAX_U32) : 0;
}

function filters(opts) {
  return { rooms: [...(opts.rooms || [])], except: [...(opts.except || [])] };
}

class ClusterCalls {
  constructor(adapter) {
    this.adapter = adapter;
    this.warnedServerSideEmit = false;
    // This namespace's calls in flight, by request id, as the stock adapter
    // keeps them in `requests` and `ackRequests` (some read their size).
    this.requests = new Map();
    this.ackRequests = new Map();
  }

  get hub() {
    return this.adapter.hub;
  }

  get v2() {
    return this.adapter.v2;
  }

  /**
   * How a call that involves the other servers goes now: "cluster" (a v2
   * session), "local" (a v1 session, or the adapter closed), or "away" (no
   * session, and the last one, or before any the version asked for, was 2).
   */
  get route() {
    const bus = this.hub.bus;
    if (bus.connected) return bus.version >= 2 ? "cluster" : "local";
    if (bus.state === "closed") return "local";
    const last = bus.welcome ? bus.welcome.version : bus.options.protocolVersion;
    return last >= 2 ? "away" : "local";
  }

  /** Resolves with the route once a session is up, or "away" after timeoutMs. */
  waitForSession(timeoutMs) {
    const bus = this.hub.bus;
    return new Promise((resolve) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve(this.route);
      };
      const timer = setTimeout(() => {
        bus.removeListener("ready", onReady);
        resolve("away");
      }, Math.min(Math.max(timeoutMs, 0), MAX_TIMER_MS));
      bus.once("ready", onReady);
    });
  }

  /**
   * A call that waits for the other servers' answers: { status, body } from
   * busd, TIMED_OUT when no session came up in time, or null on a v1 session
   * (the caller acts locally).
   */
  async ask(kind, body) {
    const timeoutMs = this.adapter.requestsTimeout;
    let route = this.route;
    let remaining = timeoutMs;
    if (route === "away") {
      const started = Date.now();
      route = await this.waitForSession(timeoutMs);
      remaining = timeoutMs - (Date.now() - started);
      if (route === "away" || remaining <= 0) return { status: REPLY_STATUS.TIMED_OUT, body: undefined };
    }
    if (route === "local") return null;
    return this.request(kind, body, remaining);
  }

  /** A call that only publishes: sent, queued while busd is away, or false on a v1 session (the caller acts locally). */
  publish(kind, body) {
    const route = this.route;
    if (route === "local") return false;
    const frame = { type: "CLUSTER_REQUEST", request: this.hub.requests.allocate(), kind, namespace: this.adapter.nsp.name, timeoutMs: 0, body };
    if (route === "cluster") this.hub.bus.send(frame);
    else this.hub.bus.sendBroadcast(frame); // the bounded queue; dropped if the next busd speaks v1 only
    return true;
  }

  /** Sends a CLUSTER_REQUEST; resolves with { status, body } (busd's reply, or TIMED_OUT without one). */
  request(kind, body, timeoutMs) {
    const { bus, requests } = this.hub;
    const id = requests.allocate();
    const frame = { type: "CLUSTER_REQUEST", request: id, kind, namespace: this.adapter.nsp.name, timeoutMs: timeoutField(timeoutMs), body };
    return new Promise((resolve) => {
      this.requests.set(id, kind);
      requests.expectReply(id, timeoutMs, (status, replyBody) => {
        this.requests.delete(id);
        resolve({ status, body: replyBody });
      });
      this.hub.counters.clusterRequests++;
      if (!bus.send(frame)) requests.settle(id, REPLY_STATUS.FAILED, { error: "no link to busd" });
    });
  }

  /**
   * After ROOMS_JOIN of rooms new to this node: resolves once busd says
   * Redis confirmed the SSUBSCRIBE of their channels (sharded adapter,
   * dynamic modes), at once when busd needs none. Never rejects: socket.io
   * apps often ignore join()'s result, and the join is applied here anyway;
   * a failure is counted and logged.
   */
  awaitRoomChannels(rooms) {
    rooms = rooms.filter((room) => typeof room !== "number" || Number.isFinite(room));
    const { bus, requests, counters } = this.hub;
    if (rooms.length === 0 || !bus.connected || bus.version < 2) return undefined;
    const id = requests.allocate();
    const timeoutMs = this.adapter.requestsTimeout;
    const frame = { type: "CLUSTER_REQUEST", request: id, kind: REQUEST_KINDS.ROOMS_SUBSCRIBED, namespace: this.adapter.nsp.name, timeoutMs: timeoutField(timeoutMs), body: { rooms } };
    counters.roomChannelWaits++;
    return new Promise((resolve) => {
      requests.expectReply(id, timeoutMs, (status, body) => {
        if (status === REPLY_STATUS.COMPLETE) {
          if (body && body.waits === false) this.hub.roomChannelWaits = false;
        } else {
          const n = ++counters.roomChannelWaitsFailed;
          if (n === 1 || n % 1000 === 0) {
            bus.logger.warn(`join(): busd did not confirm the room channels' subscription (${describe(status, body)}; ${n} so far)`);
          }
        }
        resolve();
      });
      if (!bus.send(frame)) requests.settle(id, REPLY_STATUS.FAILED, { error: "no link to busd" });
    });
  }

  async serverCount() {
    if (!this.v2) return 1;
    const { status, body } = await this.request(REQUEST_KINDS.SERVER_COUNT, undefined, this.adapter.requestsTimeout);
    if (status === REPLY_STATUS.COMPLETE && body && Number.isInteger(body.count) && body.count >= 1) return body.count;
    // socket.io calls serverCount() without a catch (acked broadcasts): a
    // rejection would end the process. What this node can see is itself.
    const n = ++this.hub.counters.serverCountsMissed;
    this.hub.counters.clusterRequestsFailed++;
    // First and then every 1000th: acked broadcasts ask for it each time.
    if (n === 1 || n % 1000 === 0) {
      this.hub.bus.logger.warn(`serverCount(): busd gave no count (${describe(status, body)}; ${n} so far); counting this node only`);
    }
    return 1;
  }

  async fetchSockets(opts) {
    const local = [];
    this.adapter.apply(opts, (socket) => local.push(socket));
    if (opts.flags && opts.flags.local) return local;
    const reply = await this.ask(REQUEST_KINDS.FETCH_SOCKETS, filters(opts));
    if (!reply) return local;
    const { status, body } = reply;
    if (status === REPLY_STATUS.COMPLETE && body && Array.isArray(body.sockets)) return local.concat(body.sockets);
    throw this.failure(status, body, "timeout reached while waiting for fetchSockets response");
  }

  async allRooms() {
    const local = new Set(this.adapter.rooms.keys());
    const reply = await this.ask(REQUEST_KINDS.ALL_ROOMS, undefined);
    if (!reply) return local;
    const { status, body } = reply;
    if (status === REPLY_STATUS.COMPLETE && body && Array.isArray(body.rooms)) {
      for (const room of body.rooms) local.add(room);
      return local;
    }
    throw this.failure(status, body, "timeout reached while waiting for allRooms response");
  }

  // Published, not applied here: the request comes back through Redis as an
  // APPLY, as a stock node's own request does.
  addSockets(opts, rooms) {
    const local = opts.flags && opts.flags.local;
    if (local || !this.publish(REQUEST_KINDS.ADD_SOCKETS, { opts: filters(opts), rooms: [...rooms] })) {
      this.adapter.apply(opts, (socket) => socket.join(rooms));
    }
  }

  delSockets(opts, rooms) {
    const local = opts.flags && opts.flags.local;
    if (local || !this.publish(REQUEST_KINDS.DEL_SOCKETS, { opts: filters(opts), rooms: [...rooms] })) {
      this.adapter.apply(opts, (socket) => rooms.forEach((room) => socket.leave(room)));
    }
  }

  disconnectSockets(opts, close) {
    const local = opts.flags && opts.flags.local;
    if (local || !this.publish(REQUEST_KINDS.DISCONNECT_SOCKETS, { opts: filters(opts), close: Boolean(close) })) {
      this.adapter.apply(opts, (socket) => socket.disconnect(close));
    }
  }

  serverSideEmit(packet) {
    const withAck = typeof packet[packet.length - 1] === "function";
    if (withAck) {
      this.serverSideEmitWithAck(packet).catch(() => {});
      return;
    }
    if (!this.publish(REQUEST_KINDS.SERVER_SIDE_EMIT, packet)) this.notCarried(packet, false);
  }

  /** `packet` ends with the ack callback: ack(err, responses), as the stock adapter calls it. */
  async serverSideEmitWithAck(packet) {
    const ack = packet.pop();
    const reply = await this.ask(REQUEST_KINDS.SERVER_SIDE_EMIT_WITH_ACK, packet);
    if (!reply) {
      this.notCarried([...packet, ack], true);
      return;
    }
    const { status, body } = reply;
    const responses = body && Array.isArray(body.responses) ? body.responses : [];
    if (status === REPLY_STATUS.COMPLETE) return ack(null, responses);
    if (status === REPLY_STATUS.TIMED_OUT && body && body.expected !== undefined) {
      return ack(new Error(`timeout reached: only ${responses.length} responses received out of ${body.expected}`), responses);
    }
    return ack(this.failure(status, body, "timeout reached: no reply from busd"), responses);
  }

  /** BROADCAST_WITH_ACK: busd publishes it and relays the other servers' counts and acks. */
  broadcastWithAck(flags, opts, { packet, attachments }, clientCountCallback, ack) {
    const { bus, requests } = this.hub;
    const id = requests.allocate();
    const timeoutMs = flags.timeout !== undefined ? flags.timeout : this.adapter.requestsTimeout;
    const sent = bus.send({
      type: "BROADCAST_WITH_ACK",
      request: id,
      namespace: this.adapter.nsp.name,
      flags: { volatile: flags.volatile, compress: flags.compress },
      rooms: [...(opts.rooms || [])],
      except: [...(opts.except || [])],
      timeoutMs: timeoutField(timeoutMs),
      packet,
      attachments,
    });
    if (!sent) return;
    this.ackRequests.set(id, { clientCountCallback, ack });
    requests.expectAcks(id, timeoutMs, clientCountCallback, ack, () => this.ackRequests.delete(id));
  }

  failure(status, body, timeoutMessage) {
    this.hub.counters.clusterRequestsFailed++;
    if (status === REPLY_STATUS.FAILED) return new Error(body && body.error ? String(body.error) : "busd could not make the request");
    return new Error(timeoutMessage);
  }

  /** Protocol v1: serverSideEmit is not carried (today's limit), said once and counted. */
  notCarried(packet, withAck) {
    this.hub.counters.serverSideEmitsNotSent++;
    if (!this.warnedServerSideEmit) {
      this.warnedServerSideEmit = true;
      this.hub.bus.logger.warn("serverSideEmit() is not sent to other nodes: busd speaks local protocol version 1 (or is away)");
    }
    if (withAck) packet[packet.length - 1](new Error("serverSideEmit with an ack needs busd with local protocol version 2"), []);
  }
}

function describe(status, body) {
  if (status === REPLY_STATUS.FAILED) return body && body.error ? String(body.error) : "failed";
  if (status === REPLY_STATUS.TIMED_OUT) return "timed out";
  return "no count in the reply";
}

module.exports = { ClusterCalls, timeoutField };
