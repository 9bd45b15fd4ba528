"use strict";
// A busd stand-in on a temporary Unix socket, speaking the local protocol
// with the connector's own codec: answers HELLO with WELCOME, records every
// frame it receives, and lets a test push frames or cut the connection.
// It answers WELCOME with version 2 unless told otherwise ({ version: 1 }).

const net = require("node:net");
const { EventEmitter } = require("node:events");
const { encodeFrame, FrameDecoder } = require("../lib/frames");
const { waitFor } = require("./wait");

class FakeBusd extends EventEmitter {
  constructor(path, welcome = {}) {
    super();
    this.path = path;
    this.welcome = { type: "WELCOME", version: 2, uid: "fakeUid", nodeId: "fake-node", ackIdBase: 2 ** 52, ackTimeoutMs: 30000, ...welcome };
    this.autoWelcome = true;
    // Like busd before version 2: a HELLO asking for another version gets ERROR 2 and the connection is closed.
    this.onlyVersion = null;
    this.received = [];
    // CLUSTER_REQUEST kind 9 (join() waits for a room channel): "never"
    // answers {"waits":false} at once, as a busd without room channels
    // does, and keeps those requests apart in `roomWaits` (the other tests
    // look at the adapter's own frames); "manual" records them in
    // `received` and leaves the answer to the test.
    this.roomWaitMode = "never";
    this.roomWaits = [];
    // CLUSTER_REQUEST kind 10 (the registry filter, once per session):
    // "filters" answers {"filters":true} at once and keeps those requests
    // apart in `filterRequests`; "refuse" answers ERROR 6, as a busd from
    // before kind 10; "manual" records them in `received`.
    this.filterMode = "filters";
    this.filterRequests = [];
    this.hellos = 0;
    this.connection = null;
    this.server = net.createServer((socket) => this.onConnection(socket));
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.path, resolve);
    });
  }

  onConnection(socket) {
    this.connection = socket;
    const decoder = new FrameDecoder();
    socket.on("data", (chunk) => {
      decoder.push(chunk);
      for (let frame; (frame = decoder.next()) !== null; ) {
        if (frame.type === "CLUSTER_REQUEST" && frame.kind === 9 && this.roomWaitMode === "never") {
          this.roomWaits.push(frame);
          this.send({ type: "CLUSTER_REPLY", request: frame.request, status: 0, body: { waits: false } });
          continue;
        }
        if (frame.type === "CLUSTER_REQUEST" && frame.kind === 10 && this.filterMode !== "manual") {
          this.filterRequests.push(frame);
          if (this.filterMode === "filters") {
            this.send({ type: "CLUSTER_REPLY", request: frame.request, status: 0, body: { filters: true } });
          } else {
            this.send({ type: "ERROR", code: 6, message: "CLUSTER_REQUEST kind 10: busd knows kinds 1 to 9" });
          }
          continue;
        }
        this.received.push(frame);
        if (frame.type === "HELLO") {
          this.hellos++;
          if (this.onlyVersion !== null && frame.version !== this.onlyVersion) {
            this.send({ type: "ERROR", code: 2, message: `busd speaks versions 1 to 1, HELLO asked for ${frame.version}` });
            socket.end();
          } else if (this.autoWelcome) {
            this.send(this.welcome);
          }
        }
        this.emit("frame", frame);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => this.connection === socket && (this.connection = null));
  }

  send(frame) {
    this.connection.write(Buffer.isBuffer(frame) ? frame : encodeFrame(frame));
  }

  /** Frames of one type received so far (all when no type). */
  frames(type) {
    return type ? this.received.filter((frame) => frame.type === type) : this.received;
  }

  /** Resolves with the first received frame (from index `from`) that matches. */
  async next(predicate, { from = 0, timeout = 3000 } = {}) {
    let found;
    await waitFor(() => (found = this.received.slice(from).find(predicate)), { timeout, what: "a frame from the connector" });
    return found;
  }

  waitForSession(count = 1) {
    return waitFor(() => this.hellos >= count && this.connection, { what: `HELLO number ${count}` });
  }

  dropConnection() {
    if (this.connection) this.connection.destroy();
    this.connection = null;
  }

  close() {
    this.dropConnection();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

module.exports = { FakeBusd };
