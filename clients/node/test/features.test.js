"use strict";
// What socket.io-adapter 2.5.5's in-memory adapter gives a single server,
// kept with the connector: the pre-encoded WebSocket frame of broadcasts,
// connection state recovery on the node that holds the session, and custom
// parsers (busd gets socket.io's default format, the sockets the server's own).
const test = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { startNode, stock } = require("../test-support/real-io");
const { skipReason } = require("../test-support/stock");
const { waitFor, sleep } = require("../test-support/wait");
const jsonParser = require("../test-support/json-parser");

const skip = skipReason || false;

/** Records what is handed to a socket's engine: [{ packets, opts }]. */
function spyWrites(socket) {
  const writes = [];
  const original = socket.client.writeToEngine.bind(socket.client);
  socket.client.writeToEngine = (packets, opts) => {
    writes.push({ packets: Array.isArray(packets) ? [...packets] : [packets], opts: { ...opts } });
    return original(packets, opts);
  };
  return writes;
}

/** A plain socket.io server (the in-memory adapter), for comparison. */
async function startPlain(t, serverOptions = {}) {
  const httpServer = http.createServer();
  const io = new stock.Server(httpServer, serverOptions);
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const client = stock.ioClient(`http://127.0.0.1:${httpServer.address().port}`, { transports: ["websocket"], forceNew: true, reconnection: false });
  t.after(() => {
    client.close();
    return new Promise((resolve) => io.close(() => resolve()));
  });
  await new Promise((resolve) => client.once("connect", resolve));
  return { io, socket: io.of("/").sockets.get(client.id), client };
}

test("wsPreEncodedFrame: the node's broadcasts and busd's deliveries carry the frame the in-memory adapter computes", { skip }, async (t) => {
  const { busd, io, connect } = await startNode(t);
  const a = await connect();
  const writes = spyWrites(a.socket);
  const plain = await startPlain(t);
  const plainWrites = spyWrites(plain.socket);

  io.emit("news", 1, "é");
  plain.io.emit("news", 1, "é");
  io.emit("bin", Buffer.from([1]));
  plain.io.emit("bin", Buffer.from([1]));
  await waitFor(() => writes.length === 2 && plainWrites.length === 2);
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: [], except: [], packet: '2["news",1,"é"]', attachments: [] });
  await waitFor(() => writes.length === 3);
  const reference = plainWrites[0].opts.wsPreEncodedFrame;
  assert.ok(reference, "the in-memory adapter computes a frame here (ws has Sender.frame)");
  assert.deepEqual(writes[0].opts, plainWrites[0].opts, "a local broadcast: the same options, frame included");
  assert.deepEqual(writes[1].opts, plainWrites[1].opts, "binary: no frame, as in-memory");
  assert.equal(writes[1].opts.wsPreEncodedFrame, undefined);
  assert.equal(writes[2].opts.wsPreEncodedFrame.length, 1, "a delivery from busd: the frame in one buffer (one write per socket)");
  assert.deepEqual(Buffer.concat(writes[2].opts.wsPreEncodedFrame), Buffer.concat(reference), "... with the same bytes");
  assert.equal(writes[2].opts.preEncoded, true);
  await waitFor(() => a.received.length === 3);
  assert.deepEqual([a.received[0], a.received[2]], [["news", 1, "é"], ["news", 1, "é"]], "the client reads the pre-encoded frames");
});

test("wsPreEncodedFrame: a delivery whose packet bytes are not UTF-8 gets a valid text frame (U+FFFD), not busd's bytes", { skip }, async (t) => {
  const { busd, connect } = await startNode(t);
  const a = await connect();
  const writes = spyWrites(a.socket);
  const packet = Buffer.concat([Buffer.from('2["news","'), Buffer.from([0xff]), Buffer.from('"]')]);
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: [], except: [], packet, attachments: [] });
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: [], except: [], packet: '2["news","\uFFFD"]', attachments: [] });
  await waitFor(() => writes.length === 2);
  const text = '2["news","\uFFFD"]';
  assert.equal(writes[0].packets[0], text);
  const frame = (opts) => Buffer.concat(opts.wsPreEncodedFrame);
  const expected = Buffer.concat(require("ws").Sender.frame(Buffer.from("4" + text), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }));
  assert.deepEqual(frame(writes[0].opts), expected, "the frame holds the string's UTF-8");
  assert.deepEqual(frame(writes[1].opts), expected, "a U+FFFD sent as such: the same bytes");
  await waitFor(() => a.received.length === 2);
  assert.deepEqual(a.received, [["news", "\uFFFD"], ["news", "\uFFFD"]], "the client reads both; the connection stays");
});

test("a delivery's one-buffer WebSocket frame has ws's header at every length bound (125/126, 65535/65536 payload bytes)", { skip }, () => {
  const { textFrame } = require("../lib/local-adapter");
  for (const payload of [1, 125, 126, 127, 65535, 65536, 70000]) {
    const bytes = Buffer.alloc(payload - 1, 0x61); // after engine.io's "4"
    const ours = textFrame(bytes);
    const reference = Buffer.concat(require("ws").Sender.frame(Buffer.concat([Buffer.from("4"), bytes]), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }));
    assert.deepEqual(ours, reference, `${payload} payload bytes`);
  }
});

test("a delivery with attachments carries no pre-encoded frame (engine.io would write it for every part)", { skip }, async (t) => {
  const { busd, connect } = await startNode(t);
  const a = await connect();
  const writes = spyWrites(a.socket);
  a.socket.join("r");
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: ["r"], except: [], packet: '51-["bin",{"_placeholder":true,"num":0}]', attachments: [Buffer.from([1, 2])] });
  await waitFor(() => a.received.length === 1);
  assert.equal(writes[0].opts.wsPreEncodedFrame, undefined);
  assert.deepEqual(a.received[0], ["bin", Buffer.from([1, 2])]);
});

test("connection state recovery: offsets on broadcasts (not on what busd publishes), missed packets restored, local and from busd", { skip }, async (t) => {
  const serverOptions = { connectionStateRecovery: { maxDisconnectionDuration: 60000 } };
  const { busd, io, connect } = await startNode(t, { serverOptions });
  const a = await connect("/", { reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 300 });
  a.socket.join("room1");
  io.to("room1").emit("first", 1);
  await waitFor(() => a.received.length === 1);
  const [event, value, offset] = a.received[0];
  assert.deepEqual([event, value], ["first", 1]);
  assert.equal(typeof offset, "string", "the offset rides at the end of the arguments");
  const published = await busd.next((f) => f.type === "ROOMS_BROADCAST");
  assert.equal(published.packet.toString(), '2["first",1]', "other nodes get the packet without this node's offset");

  const oldId = a.id;
  const reconnected = new Promise((resolve) => io.once("connection", resolve));
  let reasons = [];
  a.socket.once("disconnect", (reason) => reasons.push(reason));
  a.client.io.engine.close();
  await waitFor(() => reasons.length === 1);
  io.to("room1").emit("missed", 2);
  io.to("other-room").emit("not-for-a", 3);
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: ["room1"], except: [], packet: '2["missed-remote",4]', attachments: [] });
  await sleep(20);
  const socket = await reconnected;
  await waitFor(() => a.received.length >= 3);
  assert.equal(a.client.recovered, true);
  assert.equal(socket.id, oldId);
  assert.ok(socket.rooms.has("room1"));
  const names = a.received.map((args) => args[0]);
  assert.deepEqual(names, ["first", "missed", "missed-remote"]);
  assert.deepEqual(a.received[1].slice(0, 2), ["missed", 2]);
  assert.deepEqual(a.received[2].slice(0, 2), ["missed-remote", 4]);
  // busd hears of the recovered socket and its rooms; its disconnect reason is known again.
  const rejoined = await busd.next((f) => f.type === "ROOMS_JOIN" && f.socketId === oldId && f.rooms.includes("room1"), { from: 1 });
  assert.ok(rejoined);
  a.client.disconnect();
  const gone = await busd.next((f) => f.type === "SOCKET_DISCONNECT" && f.socketId === oldId && f.reason !== "transport close");
  assert.equal(gone.reason, "client namespace disconnect");
});

test("without connectionStateRecovery: no offsets, nothing kept", { skip }, async (t) => {
  const { io, connect, adapter } = await startNode(t);
  const a = await connect();
  io.emit("plain", 1);
  await waitFor(() => a.received.length === 1);
  assert.deepEqual(a.received, [["plain", 1]]);
  assert.equal(adapter.sessions, null);
  assert.equal(adapter.restoreSession("pid", "offset"), null);
});

test("a custom parser: its clients get its encoding; busd gets and gives socket.io's default format", { skip }, async (t) => {
  const { busd, io, connect, adapter } = await startNode(t, { serverOptions: { parser: jsonParser } });
  assert.equal(adapter.packets.compatible, false);
  const a = await connect("/", { parser: jsonParser.forClient });
  a.socket.join(5);
  const writes = spyWrites(a.socket);
  io.to(5).emit("x", 1, { y: "é" });
  const frame = await busd.next((f) => f.type === "ROOMS_BROADCAST");
  assert.equal(frame.packet.toString(), '2["x",1,{"y":"é"}]');
  assert.deepEqual(frame.rooms, [5]);
  await waitFor(() => a.received.length === 1);
  assert.deepEqual(a.received[0], ["x", 1, { y: "é" }]);
  assert.equal(typeof writes[0].packets[0], "string");
  assert.deepEqual(JSON.parse(writes[0].packets[0]), { type: 2, data: ["x", 1, { y: "é" }], nsp: "/" });

  io.emit("bin", Buffer.from([1, 2]));
  const binary = await busd.next((f) => f.type === "ROOMS_BROADCAST" && f.packet.toString().startsWith("51-"));
  assert.equal(binary.packet.toString(), '51-["bin",{"_placeholder":true,"num":0}]');
  assert.deepEqual(binary.attachments, [Buffer.from([1, 2])]);

  const ackId = 2 ** 52 + 1;
  a.client.on("remote", (n, cb) => cb("ack", n));
  busd.send({ type: "DELIVER_TO_ROOMS", ackId, flags: {}, namespace: "/", rooms: [5], except: [], packet: `2${ackId}["remote",2]`, attachments: [] });
  const acked = await busd.next((f) => f.type === "ACKED");
  assert.deepEqual([acked.ackId, acked.socketId, acked.arguments], [ackId, a.id, ["ack", 2]]);

  // A binary packet from busd: decoded with socket.io-parser, encoded with the server's parser.
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: [5], except: [], packet: '51-["bin-in",{"_placeholder":true,"num":0}]', attachments: [Buffer.from([7, 8])] });
  await waitFor(() => a.received.some(([event]) => event === "bin-in"));
  assert.deepEqual(a.received.find(([event]) => event === "bin-in"), ["bin-in", { type: "Buffer", data: [7, 8] }], "what this JSON parser makes of a Buffer");

  // The cluster calls carry JSON, whatever the parser.
  const result = new Promise((resolve) => io.timeout(1000).emit("ask", (err, responses) => resolve([err, responses])));
  a.client.on("ask", (cb) => cb("mine"));
  const withAck = await busd.next((f) => f.type === "BROADCAST_WITH_ACK");
  assert.equal(withAck.packet.toString(), '2["ask"]');
  const count = await busd.next((f) => f.type === "CLUSTER_REQUEST" && f.kind === 1);
  busd.send({ type: "CLUSTER_REPLY", request: count.request, status: 0, body: { count: 1 } });
  assert.deepEqual(await result, [null, ["mine"]]);
});

test("a custom parser and connection state recovery (the encoder returns one value, not a list)", { skip }, async (t) => {
  const serverOptions = { parser: jsonParser, connectionStateRecovery: { maxDisconnectionDuration: 60000 } };
  const { busd, io, connect } = await startNode(t, { serverOptions });
  const a = await connect("/", { parser: jsonParser.forClient });
  io.emit("one", 1);
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: [], except: [], packet: '2["two",2]', attachments: [] });
  await waitFor(() => a.received.length === 2);
  assert.deepEqual(a.received.map((args) => args.slice(0, 2)), [["one", 1], ["two", 2]]);
  assert.ok(a.received.every((args) => typeof args[2] === "string"), "offsets on both");
});

test("a custom parser where socket.io-parser cannot be loaded: refused at start-up, naming the parser", () => {
  const lib = path.join(__dirname, "..");
  const script = `
    const { createAdapter } = require(${JSON.stringify(lib)});
    class MsgpackishEncoder { encode(p) { return [Buffer.from(JSON.stringify(p))]; } }
    const nsp = { name: "/", sockets: new Map(), server: { encoder: new MsgpackishEncoder(), opts: {} } };
    try { new (createAdapter({ path: "/nonexistent/busd.sock" }))(nsp); console.log("accepted"); }
    catch (err) { console.log(err.message); }`;
  const out = execFileSync(process.execPath, ["-e", script], { env: { PATH: process.env.PATH, NODE_PATH: "" }, cwd: "/" }).toString();
  assert.match(out, /^socketbus: this server uses a parser whose encoder is MsgpackishEncoder, and socket.io-parser/);
});
