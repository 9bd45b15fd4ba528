"use strict";
// The Emitter with Debian's node-redis 4.5.1 against a real redis-server and
// two socketbus nodes (real busd of this build, real socket.io 4.8.1 with the
// connector), real clients that ack, stay silent or disconnect: the outcome
// per socket, following and looking up records, malformed records on the
// acks channel, and no subscription left behind on any path.

const { describe, it, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const { Emitter } = require("..");
const { stock, skipReason } = require("../test-support/stock");
const { BUSD, REDIS_SERVER } = require("../test-support/processes");
const { startCluster } = require("../test-support/emitter-cluster");
const { waitFor, sleep } = require("../test-support/wait");

const missing = [BUSD, REDIS_SERVER].filter((file) => !fs.existsSync(file));
if (missing.length) throw new Error(`missing ${missing.join(", ")} (build busd first: make test does)`);

describe("Emitter against busd nodes (node-redis 4.5.1)", { skip: skipReason || false }, () => {
  let cluster, redisClient, emitter;
  const clients = {};

  /** PUBSUB NUMSUB of a message id's channel, and every acks channel still subscribed. */
  async function subscriptions(messageId) {
    const numsub = await cluster.redis.client.command("PUBSUB", "NUMSUB", `socketbus:acks:${messageId}`);
    const channels = await cluster.redis.client.command("PUBSUB", "CHANNELS", "socketbus:acks:*");
    return { numsub: Number(numsub[1]), channels: channels.map(String) };
  }

  before(async () => {
    cluster = await startCluster({ nodes: 2 });
    const { createClient } = require("redis");
    redisClient = createClient({ url: cluster.redis.url });
    redisClient.on("error", () => {});
    await redisClient.connect();
    emitter = new Emitter(redisClient);
    const received = (name) => (clients[name].received = []);
    // acker on node 0, acker2 on node 1: ack with their arguments; silent never acks; leaver disconnects.
    clients.acker = await cluster.connect(0, (c) => c.on("note", (text, ack) => ack("ok", text)));
    clients.acker2 = await cluster.connect(1, (c) => c.on("note", (text, ack) => ack({ from: "acker2" })));
    clients.silent = await cluster.connect(1, (c) => c.on("note", () => {}));
    clients.leaver = await cluster.connect(0, (c) => c.on("note", () => c.disconnect()));
    for (const name of Object.keys(clients)) received(name);
    // Kept: a client forgets its id once disconnected.
    for (const c of Object.values(clients)) c.sid = c.id;
    const ids = Object.values(clients).map((c) => c.id);
    await cluster.registered(ids);
    // A room of all four, on both nodes.
    for (const server of cluster.servers) for (const socket of server.io.of("/").sockets.values()) socket.join("everyone");
  });

  after(async () => {
    await emitter?.close();
    await redisClient?.quit().catch(() => {});
    await cluster?.cleanup();
  });

  it("reports delivered with the client's ack arguments for a socket id", async () => {
    const result = await emitter.to(clients.acker.id).emitWithConfirmation("note", "hello", { timeout: 3000, id: "m-one" });
    assert.equal(result.messageId, "m-one");
    assert.equal(result.complete, true);
    assert.deepEqual(result.outcomes.map((o) => [o.socketId, o.status, o.args, o.node]), [[clients.acker.id, "delivered", ["ok", "hello"], "node-0"]]);
    assert.deepEqual(result.unanswered, []);
    assert.deepEqual(await subscriptions("m-one"), { numsub: 0, channels: [] });
  });

  it("reports delivered, timeout and disconnected per socket of a room across two nodes", async () => {
    const started = Date.now();
    const result = await emitter.to("everyone").emitWithConfirmation("note", "all", { timeout: 2000, id: "m-room" });
    const byId = Object.fromEntries(result.outcomes.map((o) => [o.socketId, o]));
    const names = Object.fromEntries(Object.entries(clients).map(([name, c]) => [c.sid, name]));
    assert.equal(Object.keys(byId).length, 4, JSON.stringify({ names, result }));
    assert.equal(byId[clients.acker.id].status, "delivered");
    assert.deepEqual(byId[clients.acker2.id].args, [{ from: "acker2" }]);
    assert.equal(byId[clients.acker2.id].node, "node-1");
    assert.equal(byId[clients.silent.id].status, "timeout");
    assert.equal(byId[clients.leaver.sid].status, "disconnected");
    assert.equal(result.expected, 4);
    assert.equal(result.delivered, 2);
    assert.equal(result.complete, true);
    assert.deepEqual(result.nodes.sort(), ["node-0", "node-1"]);
    // busd timed the silent client out before our own deadline.
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.deepEqual(await subscriptions("m-room"), { numsub: 0, channels: [] });

    // Stored records: what busctl acks shows.
    const stored = await emitter.storedRecords("m-room");
    assert.equal(stored.filter((r) => r.type === "dispatched").length, 2);
    assert.deepEqual(stored.filter((r) => r.type === "confirmation").map((r) => r.socketId).sort(), Object.keys(byId).sort());
  });

  it("follows a message id's records (async iterator and callback) and skips malformed ones", async () => {
    const acker = await cluster.connect(0, (c) => c.on("note", (text, ack) => ack?.(text.length)));
    await cluster.registered([acker.id]);
    const viaCallback = [];
    const callbackFeed = emitter.follow("m-follow", { onRecord: (r) => viaCallback.push(r) });
    const iterated = [];
    const iterator = emitter.follow("m-follow");
    await Promise.all([callbackFeed.ready, iterator.ready]);
    assert.equal((await subscriptions("m-follow")).numsub, 1, "one connection, one subscription");
    const reading = (async () => {
      for await (const record of iterator) {
        iterated.push(record);
        if (record.type === "confirmation") break;
      }
    })();
    // Garbage first: anyone can publish on the channel.
    // A well-formed record of another message on this channel: not this message's outcome.
    const forged = JSON.stringify({ type: "confirmation", messageId: "other", socketId: acker.id, node: "x", status: "timeout", args: null });
    for (const junk of ["not json", "{}", '{"type":"confirmation","messageId":"m-follow"}', "[1,2]", forged]) {
      await redisClient.publish("socketbus:acks:m-follow", junk);
    }
    emitter.to(acker.id).emit("note", "abc"); // a plain emit does not ask for acks...
    const result = await emitter.to(acker.id).emitWithConfirmation("note", "abcd", { timeout: 3000, id: "m-follow" });
    assert.deepEqual(result.outcomes.map((o) => [o.status, o.args]), [["delivered", [4]]]);
    await reading;
    await waitFor(() => viaCallback.some((r) => r.type === "confirmation"), { what: "the callback's confirmation" });
    assert.deepEqual(iterated.map((r) => r.type), ["dispatched", "confirmation"]);
    assert.deepEqual(viaCallback.map((r) => r.type), ["dispatched", "confirmation"]);
    // The iterator's break unsubscribed it; the callback feed still holds the channel.
    assert.equal((await subscriptions("m-follow")).numsub, 1);
    await callbackFeed.close();
    assert.deepEqual(await subscriptions("m-follow"), { numsub: 0, channels: [] });
  });

  it("leaves no subscription when nobody receives the message, on a timeout, or when publish fails", async () => {
    // Nobody subscribed to this namespace: PUBLISH counts 0 receivers, the result says so at once.
    const none = await emitter.of("/nobody").emitWithConfirmation("note", 1, { timeout: 3000, id: "m-none" });
    assert.deepEqual([none.receivers, none.expected, none.complete], [0, 0, false]);
    // A socket id nobody has: nodes receive it but nobody dispatches; the wait ends at the timeout.
    const started = Date.now();
    const lost = await emitter.to("no-such-socket").emitWithConfirmation("note", 1, { timeout: 300, id: "m-lost" });
    assert.ok(Date.now() - started >= 290);
    assert.deepEqual([lost.expected, lost.complete], [0, false]);
    // Publish fails (a reserved event name throws before anything is subscribed; a client whose publish rejects).
    await assert.rejects(emitter.emitWithConfirmation("disconnect", { id: "m-bad" }), /reserved/);
    // node-redis keeps private fields: a wrapper, not a prototype copy.
    const failing = new Emitter({
      publish: async () => {
        throw new Error("publish refused");
      },
      duplicate: () => redisClient.duplicate(),
      sendCommand: (args) => redisClient.sendCommand(args),
      lRange: (...args) => redisClient.lRange(...args),
    });
    await assert.rejects(failing.to("x").emitWithConfirmation("note", { id: "m-fail", timeout: 500 }), /publish refused/);
    await failing.close();
    for (const id of ["m-none", "m-lost", "m-bad", "m-fail"]) assert.deepEqual(await subscriptions(id), { numsub: 0, channels: [] }, id);
  });

  it("reaches sockets on a stock node through the adapter's acked broadcast, and busd nodes' sockets once", async () => {
    const stockIndex = await cluster.startStockNode();
    const responseChannels = async () => ({
      numsub: Number((await cluster.redis.client.command("PUBSUB", "NUMSUB", "socket.io-response#/#"))[1]),
      channels: (await cluster.redis.client.command("PUBSUB", "CHANNELS", "socket.io-response#*")).map(String).sort(),
    });
    const before = await responseChannels();
    const received = [];
    const stockAcker = await cluster.connect(stockIndex, (c) => c.on("mixed", (text, ack) => (received.push(["stockAcker", text]), ack({ stock: text }))));
    const stockSilent = await cluster.connect(stockIndex, (c) => c.on("mixed", () => received.push(["stockSilent"])));
    const busdAcker = await cluster.connect(0, (c) => c.on("mixed", (text, ack) => (received.push(["busdAcker", text]), ack("busd"))));
    await cluster.registered([busdAcker.id]);
    const stockIo = cluster.servers[stockIndex].io;
    stockIo.of("/").sockets.get(stockAcker.id).join("mixed-room");
    cluster.servers[0].io.of("/").sockets.get(busdAcker.id).join("mixed-room");

    // A stock socket id alone: only the acked broadcast goes out; it reports a count and the ack value.
    const one = await emitter.to(stockAcker.id).emitWithConfirmation("mixed", "solo", { timeout: 3000, id: "m-stock-1" });
    assert.equal(one.receivers, 0, "socketbus's broadcast is not published");
    assert.deepEqual(one.stock.sockets, [stockAcker.id]);
    assert.deepEqual([one.stock.clients, one.stock.acks, one.stock.complete, one.complete], [1, [{ stock: "solo" }], true, true]);
    assert.ok(one.stock.serversAnswered >= 1 && one.stock.serversAnswered === one.stock.servers, JSON.stringify(one.stock));

    // A room on both kinds of node: the busd socket confirms per socket, the stock one through the adapter.
    received.length = 0;
    const mixed = await emitter.to("mixed-room").emitWithConfirmation("mixed", "both", { timeout: 3000, id: "m-stock-2" });
    assert.deepEqual(mixed.outcomes.map((o) => [o.socketId, o.status, o.args]), [[busdAcker.id, "delivered", ["busd"]]]);
    assert.deepEqual([mixed.stock.sockets, mixed.stock.clients, mixed.stock.acks], [[stockAcker.id], 1, [{ stock: "both" }]]);
    assert.equal(mixed.complete, true);
    await sleep(100);
    // Each client got the event exactly once.
    assert.deepEqual(received.sort(), [["busdAcker", "both"], ["stockAcker", "both"]]);

    // A silent stock client: counted, never acked; the wait ends at the timeout, incomplete.
    const silent = await emitter.to(stockSilent.id).emitWithConfirmation("mixed", "hush", { timeout: 600, id: "m-stock-3" });
    assert.deepEqual([silent.stock.clients, silent.stock.acks.length, silent.complete], [1, 0, false]);
    for (const id of ["m-stock-1", "m-stock-2", "m-stock-3"]) assert.deepEqual(await subscriptions(id), { numsub: 0, channels: [] }, id);
    // The emitter's response subscriptions (shared and per-uid channel) are gone.
    assert.deepEqual(await responseChannels(), before);
  });

  it("runs the README's HTTP handler example as written", async () => {
    const { spawn } = require("node:child_process");
    const os = require("node:os");
    const path = require("node:path");
    const readme = fs.readFileSync(path.join(__dirname, "../README.md"), "utf8");
    const block = /```js\n(const http = require\("node:http"\);[\s\S]*?)```/.exec(readme);
    assert.ok(block, "the example is in the README");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sbexample-"));
    const file = path.join(dir, "example.js");
    fs.writeFileSync(file, block[1]);
    // `@socketbus/connector` is this folder; redis and socket.io from where the tests take them.
    fs.mkdirSync(path.join(dir, "node_modules", "@socketbus"), { recursive: true });
    fs.symlinkSync(path.resolve(__dirname, ".."), path.join(dir, "node_modules", "@socketbus", "connector"));
    const port = await require("../test-support/processes").freePort();
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, REDIS_URL: cluster.redis.url, PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    try {
      const user = await cluster.connect(1, (c) => c.on("notification", (note, ack) => ack("seen", note.text)));
      await cluster.registered([user.id]);
      cluster.servers[1].io.of("/").sockets.get(user.id).join("user:42");
      const get = (query) =>
        new Promise((resolve, reject) =>
          require("node:http").get(`http://127.0.0.1:${port}/?${query}`, (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
          }).on("error", reject),
        );
      const answer = await waitFor(() => get("user=42&text=hi").catch(() => null), { timeout: 10000, what: `the example to answer (${output})` });
      assert.equal(answer.status, 200, JSON.stringify(answer));
      assert.equal(answer.body.delivered, 1);
      assert.deepEqual(answer.body.outcomes.map((o) => [o.socketId, o.status, o.args]), [[user.id, "delivered", ["seen", "hi"]]]);
    } finally {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs confirmed emits in parallel on one subscriber connection", async () => {
    const results = await Promise.all(
      [...Array(20)].map((_, i) => emitter.to(clients.acker2.id).emitWithConfirmation("note", `n${i}`, { timeout: 3000 })),
    );
    assert.ok(results.every((r) => r.delivered === 1 && r.complete), JSON.stringify(results.find((r) => r.delivered !== 1)));
    assert.equal(new Set(results.map((r) => r.messageId)).size, 20);
    // One subscriber connection served them all, and let every channel go.
    assert.equal(emitter.redis.listeners.size, 0);
    assert.deepEqual((await subscriptions("none")).channels, []);
  });
});
