"use strict";
// The link to busd: one Unix-socket connection per process (shared by the
// adapters of all namespaces), the HELLO/WELCOME handshake, PING/PONG, and
// reconnection with exponential back-off and jitter when busd goes away.

const net = require("node:net");
const os = require("node:os");
const { EventEmitter } = require("node:events");
const { debuglog } = require("node:util");
const frames = require("./frames");

const { ERROR_CODES, ProtocolError } = frames;

const DEFAULTS = {
  // busd reads its socket.path from the same variable.
  path: process.env.SOCKETBUS_SOCKET_PATH || "/run/socketbus/busd.sock",
  initialDelayMs: 100,
  maxDelayMs: 5000,
  // A busd that accepts but does not answer HELLO is given up on after this.
  handshakeTimeoutMs: 5000,
  // Broadcasts made while busd is unreachable wait here (oldest dropped first).
  maxQueuedBroadcasts: 1000,
  maxQueuedBytes: 8 * 1024 * 1024,
  // When busd reads slower than the node writes, broadcasts beyond this much
  // unsent data are dropped (and counted) instead of growing memory forever.
  maxWriteBufferBytes: 64 * 1024 * 1024,
  // The version asked for in HELLO (busd answers with the one it speaks).
  protocolVersion: frames.VERSION,
};

// Reads of busd's link land in slabs of this size (nextReadBuffer), each
// read given at least READ_MIN bytes.
const READ_SLAB = 256 * 1024;
const READ_MIN = 64 * 1024;

// Frames only busd may send once the session is up.
const FROM_BUSD_V1 = new Set(["DELIVER", "SOCKETS_JOIN", "SOCKETS_LEAVE", "SOCKETS_DISCONNECT", "SERVER_SIDE_EMIT"]);
const FROM_BUSD_V2 = new Set([...FROM_BUSD_V1, "DELIVER_TO_ROOMS", "APPLY", "QUESTION", "CLUSTER_REPLY", "ACK_COUNT", "ACK_ARGUMENT"]);

function defaultLogger() {
  const debug = debuglog("socketbus");
  return { debug, warn: (message) => console.warn(`socketbus: ${message}`) };
}

/**
 * Events: "ready" (welcome frame) once a session is up, after every
 * (re)connect; "frame" (frame) for each busd → node command; "down" (reason)
 * when an established session ends.
 */
class BusConnection extends EventEmitter {
  constructor(options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.nodeName = options.nodeName || `${os.hostname()}-${process.pid}`;
    this.logger = options.logger || defaultLogger();
    /** idle, connecting, handshaking, ready, closing (after a protocol error) or closed. */
    this.state = "idle";
    this.sessionActive = false;
    /** The last WELCOME: { version, uid, nodeId, ackIdBase, ackTimeoutMs }. */
    this.welcome = null;
    this.warnedV1 = false;
    // The version the next HELLO asks for: protocolVersion, or 1 after a
    // busd that speaks only version 1 refused it (ERROR 2 to HELLO 2).
    this.askVersion = this.options.protocolVersion;
    this.retryAtOnce = false;
    this.lastError = null;
    this.counters = {
      sessions: 0, // WELCOMEs received
      connectFailures: 0,
      sessionsLost: 0,
      framesIn: 0,
      framesOut: 0,
      flushes: 0, // writes handed to the socket before the tick's end (joins, for busd's registry filter)
      framesSkipped: 0, // node events not sent while busd was away (the resync covers them)
      broadcastsSent: 0,
      broadcastsQueued: 0,
      broadcastsDropped: 0,
      errorsReceived: 0,
      framesRejectedByBusd: 0, // ERROR 6: busd skipped one frame, the session goes on
      protocolErrors: 0,
      handlerErrors: 0,
      versionFallbacks: 0, // sessions in an older version than asked for
    };
    this.socket = null;
    this.decoder = null;
    this.slab = null; // reads land here (nextReadBuffer)
    this.slabAt = 0;
    this.attempt = 0;
    this.timer = null;
    this.queue = [];
    this.queuedBytes = 0;
    this.corked = false;
    this.corkGeneration = 0;
    this.warnedOutage = false;
  }

  get connected() {
    return this.state === "ready";
  }

  /** The version of the current session (0 without one). */
  get version() {
    return this.state === "ready" && this.welcome ? this.welcome.version : 0;
  }

  /** A snapshot for health checks and tests. */
  stats() {
    return {
      state: this.state,
      connected: this.connected,
      path: this.options.path,
      welcome: this.welcome,
      queuedBroadcasts: this.queue.length,
      queuedBytes: this.queuedBytes,
      lastError: this.lastError,
      ...this.counters,
    };
  }

  start() {
    if (this.state === "idle") this.connect();
    return this;
  }

  /** Stops for good: flushes what is written, closes, never reconnects. */
  close() {
    if (this.state === "closed") return Promise.resolve();
    this.state = "closed";
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once("close", resolve);
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  }

  /** Sends a frame now, or drops it when there is no session (returns false). */
  send(frame) {
    if (this.state !== "ready") {
      this.counters.framesSkipped++;
      return false;
    }
    this.write(frames.encodeFrame(frame));
    return true;
  }

  /**
   * Sends a BROADCAST now, or queues it (bounded) until the next session.
   * Throws (RangeError) when the frame cannot be framed (over 16 MiB, a room
   * name over 65535 bytes): nothing is sent and the link stays.
   */
  sendBroadcast(frame) {
    const bytes = frames.encodeFrame(frame);
    if (this.state === "ready") {
      if (this.socket.writableLength > this.options.maxWriteBufferBytes) {
        this.counters.broadcastsDropped++;
        return false;
      }
      this.write(bytes);
      this.counters.broadcastsSent++;
      return true;
    }
    if (this.state === "closed") {
      this.counters.broadcastsDropped++;
      return false;
    }
    this.queue.push({ frame, bytes });
    this.queuedBytes += bytes.length;
    this.counters.broadcastsQueued++;
    while (this.queue.length > this.options.maxQueuedBroadcasts || this.queuedBytes > this.options.maxQueuedBytes) {
      this.queuedBytes -= this.queue.shift().bytes.length;
      this.counters.broadcastsDropped++;
    }
    return true;
  }

  // ---- internals ----

  connect() {
    this.state = "connecting";
    this.decoder = new frames.FrameDecoder();
    // Reads go straight to onData (net's onread), not through the socket's
    // Readable stream and its "data" event: busd's frames arrive in many
    // small reads, and the stream's bookkeeping per read was a share of the
    // node's cost per delivered packet.
    const socket = net.createConnection({
      path: this.options.path,
      onread: { buffer: () => this.nextReadBuffer(), callback: (nread, buf) => this.onRead(socket, nread, buf) },
    });
    this.socket = socket;
    socket.on("connect", () => {
      if (this.socket !== socket) return;
      this.state = "handshaking";
      this.writeNow(frames.encodeFrame({ type: "HELLO", version: this.askVersion, node: this.nodeName, pid: process.pid }));
      const timer = setTimeout(() => {
        if (this.socket !== socket || this.state !== "handshaking") return;
        this.lastError = `no WELCOME within ${this.options.handshakeTimeoutMs} ms`;
        socket.destroy();
      }, this.options.handshakeTimeoutMs);
      timer.unref();
    });
    socket.on("error", (err) => {
      this.lastError = err.message;
      if (this.state === "connecting") this.counters.connectFailures++;
    });
    socket.on("close", () => this.onClose(socket));
  }

  onClose(socket) {
    if (this.socket !== socket) return;
    this.socket = null;
    const hadSession = this.sessionActive;
    this.sessionActive = false;
    if (this.state === "closed") return;
    this.state = "connecting";
    if (this.retryAtOnce) {
      this.retryAtOnce = false;
      this.timer = setTimeout(() => this.connect(), 0);
      this.timer.unref();
      return;
    }
    // A busd that spoke only version 1 may come back upgraded.
    if (hadSession) this.askVersion = this.options.protocolVersion;
    if (hadSession) {
      this.counters.sessionsLost++;
      this.warnedOutage = true; // one warning per outage
      this.logger.warn(`lost the link to busd (${this.options.path}); reconnecting`);
      this.dispatch("down", this.lastError || "connection closed");
    } else if (!this.warnedOutage) {
      this.warnedOutage = true;
      this.logger.warn(`cannot reach busd at ${this.options.path} (${this.lastError || "closed"}); retrying`);
    }
    const delay = this.nextDelay();
    this.logger.debug(`reconnecting to busd in ${delay} ms`);
    this.timer = setTimeout(() => this.connect(), delay);
    this.timer.unref();
  }

  /** Exponential back-off with "equal jitter": half fixed, half random. */
  nextDelay() {
    const { initialDelayMs, maxDelayMs } = this.options;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  /**
   * Where the next read lands: the rest of a slab, after the reads before
   * it. Frames and what is made of them may keep views of a read, so a slab
   * is never written twice; a new one is taken when less than READ_MIN is left.
   */
  nextReadBuffer() {
    if (this.slab === null || this.slab.length - this.slabAt < READ_MIN) {
      this.slab = Buffer.allocUnsafeSlow(READ_SLAB);
      this.slabAt = 0;
    }
    return this.slab.subarray(this.slabAt);
  }

  onRead(socket, nread, buf) {
    // buf is the view nextReadBuffer gave for this read, at slabAt.
    if (buf.buffer === this.slab.buffer) this.slabAt += nread;
    this.onData(socket, buf.subarray(0, nread));
  }

  onData(socket, chunk) {
    // After a protocol error the rest of that connection is ignored.
    if (this.socket !== socket || this.state === "closing") return;
    this.decoder.push(chunk);
    for (;;) {
      let frame;
      try {
        frame = this.decoder.next();
        if (frame === null) return;
        this.counters.framesIn++;
        this.handle(frame);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.failSession(err);
        return;
      }
      if (this.socket !== socket || this.state === "closing") return;
    }
  }

  handle(frame) {
    if (frame.type === "ERROR") {
      this.counters.errorsReceived++;
      if (frame.code === ERROR_CODES.UNUSABLE_CONTENT) {
        // busd skipped one of our frames (a broadcast it cannot decode) and
        // keeps the connection: so do we.
        // One line for the first and then one per 1000: a server whose every
        // broadcast busd cannot decode would otherwise flood the log.
        const n = ++this.counters.framesRejectedByBusd;
        if (n === 1 || n % 1000 === 0) this.logger.warn(`busd skipped a frame (${n} so far): ${frame.message}`);
        return;
      }
      if (this.state === "handshaking" && frame.code === ERROR_CODES.UNSUPPORTED_VERSION && this.askVersion > 1) {
        // A busd of before version 2 refuses HELLO 2 (it cannot answer WELCOME 1): ask again for 1.
        this.askVersion = 1;
        this.retryAtOnce = true;
        this.lastError = `busd refused version ${this.options.protocolVersion} (${frame.message}); asking for version 1`;
        this.logger.debug(this.lastError);
        return;
      }
      // busd closes the connection after any other ERROR; we reconnect then.
      this.lastError = `busd error ${frame.code}: ${frame.message}`;
      this.logger.warn(this.lastError);
      return;
    }
    if (this.state === "handshaking") {
      if (frame.type !== "WELCOME") throw new ProtocolError(ERROR_CODES.UNEXPECTED, `${frame.type} before WELCOME`);
      if (!frames.VERSIONS.includes(frame.version) || frame.version > this.askVersion) {
        throw new ProtocolError(
          ERROR_CODES.UNSUPPORTED_VERSION,
          `connector asked for version ${this.askVersion}, busd answered ${frame.version}`,
        );
      }
      this.onWelcome(frame);
      return;
    }
    switch (frame.type) {
      case "PING":
        this.write(frames.encodeFrame({ type: "PONG", token: frame.token }));
        return;
      case "PONG":
        return;
      default: {
        const allowed = this.welcome.version >= 2 ? FROM_BUSD_V2 : FROM_BUSD_V1;
        if (!allowed.has(frame.type)) {
          throw new ProtocolError(ERROR_CODES.UNEXPECTED, `unexpected ${frame.type} from busd (version ${this.welcome.version} session)`);
        }
        this.dispatchFrame(frame);
      }
    }
  }

  // Per frame from busd: with one listener (the hub's) it is called through
  // emit, without the copy of the listener list that dispatch makes.
  dispatchFrame(frame) {
    if (this.listenerCount("frame") !== 1) return this.dispatch("frame", frame);
    try {
      this.emit("frame", frame);
    } catch (err) {
      this.counters.handlerErrors++;
      this.logger.warn(`error while handling ${frame.type}: ${err && err.stack}`);
    }
  }

  onWelcome(frame) {
    const { version, uid, nodeId, ackIdBase, ackTimeoutMs } = frame;
    this.welcome = { version, uid, nodeId, ackIdBase, ackTimeoutMs };
    if (version < this.options.protocolVersion) this.counters.versionFallbacks++;
    if (version < this.options.protocolVersion && !this.warnedV1) {
      // Once per process: an old busd stays old until it is upgraded.
      this.warnedV1 = true;
      this.logger.warn(
        `busd speaks local protocol version ${version} only: cluster calls (serverCount, fetchSockets, serverSideEmit, ` +
          "socketsJoin/Leave, disconnectSockets, acked broadcasts) act on this node only until busd is upgraded",
      );
    }
    this.state = "ready";
    this.sessionActive = true;
    this.attempt = 0;
    this.counters.sessions++;
    if (this.warnedOutage || this.counters.sessions > 1) this.logger.warn(`linked to busd again (node id ${nodeId})`);
    this.warnedOutage = false;
    this.lastError = null;
    // Adapters re-send their sockets first, so busd knows the rooms before
    // queued broadcasts arrive.
    this.dispatch("ready", this.welcome);
    const queued = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const { frame, bytes } of queued) {
      if (this.state !== "ready") break;
      if (version < 2 && frames.V2_TYPES.has(frame.type) && frame.type !== "ROOMS_BROADCAST") {
        // A cluster request queued for a busd that now speaks v1 only: it has no frame for it.
        this.counters.broadcastsDropped++;
        continue;
      }
      // Queued before busd said which version it speaks: a v1 busd gets v1's BROADCAST.
      this.write(version < 2 && frame.type === "ROOMS_BROADCAST" ? frames.encodeFrame(frames.toV1Broadcast(frame)) : bytes);
      this.counters.broadcastsSent++;
    }
  }

  // A listener's exception (user code in socket.join, say) must not end the session.
  dispatch(event, value) {
    // rawListeners: a once() listener's wrapper, which removes itself when
    // called (listeners() would give the bare function, run on every event).
    for (const listener of this.rawListeners(event)) {
      try {
        listener.call(this, value);
      } catch (err) {
        this.counters.handlerErrors++;
        this.logger.warn(`error while handling ${value && value.type ? value.type : event}: ${err && err.stack}`);
      }
    }
  }

  failSession(err) {
    this.counters.protocolErrors++;
    this.lastError = `protocol error: ${err.message}`;
    this.logger.warn(`${this.lastError}; closing the link to busd`);
    const socket = this.socket;
    if (!socket) return;
    this.writeNow(frames.encodeFrame({ type: "ERROR", code: err.code, message: err.message.slice(0, 1000) }));
    socket.end();
    setTimeout(() => socket.destroy(), 1000).unref();
    if (this.state !== "closed") this.state = "closing";
  }

  // Frames written in one tick leave in one writev.
  write(bytes) {
    const socket = this.socket;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      const generation = ++this.corkGeneration;
      process.nextTick(() => {
        // flush() may have uncorked already, and a later write corked anew.
        if (this.corkGeneration !== generation || !this.corked) return;
        this.corked = false;
        socket.uncork();
      });
    }
    socket.write(bytes);
    this.counters.framesOut++;
  }

  /**
   * Hands what this tick wrote so far to the socket now, not at the tick's
   * end. A join goes out this way before join() returns: busd's registry
   * filter (CLUSTER_REQUEST kind 10) may drop a broadcast to a room it does
   * not know this node is in, and it can only see bytes in the socket.
   */
  flush() {
    if (!this.corked || !this.socket) return;
    this.corked = false;
    this.corkGeneration++;
    this.socket.uncork();
    this.counters.flushes++;
  }

  writeNow(bytes) {
    this.socket.write(bytes);
    this.counters.framesOut++;
  }
}

module.exports = { BusConnection, DEFAULTS };
