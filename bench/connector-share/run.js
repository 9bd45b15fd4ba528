"use strict";
// The Node connector's own share of the node's CPU per delivered message
// (issue 17, item 4), with real parts: redis-server, a real Socket.IO 4.8.1
// server (../shared/stock-socketio), real socket.io-client WebSocket clients
// in their own process, and the 76-byte @socket.io/redis-emitter 5.1 capture
// published by a C publisher (steps.c, or bench/anchor's pub) paced at each of
// --rates (messages per second, in 1 ms steps; 0 = bench/anchor's pub as fast
// as it goes, pipelined).
//
//   node bench/connector-share/run.js [--clients 1] [--messages 30000] [--rates 10000,20000]
//        [--rounds 3] [--modes socketbus,plain,stock] [--busd .build/release/busd]
//        [--publisher steps|anchor] [--interleave PAIRS] [--plain-frame two|one]
//
// Modes (one server process each, alternating per round):
//   socketbus  clients/node + busd (release); busd hands each message to the node as DELIVER_TO_ROOMS
//   plain      the same server without the connector (in-memory adapter), writing the same
//              pre-encoded packet to the same sockets itself at the same rate (see server.js)
//   stock      @socket.io/redis-adapter 8.3.0 receiving the same emitter messages (reference)
// --plain-frame: the plain mode's WebSocket frame as socket.io-adapter builds
// it (two: Sender.frame's header and payload, written with a cork, two writes
// and an uncork) or in one buffer (one: as the connector writes busd's
// deliveries since 2026-12-06 13:30; then socketbus − plain leaves out what
// the one-buffer write saves and is the connector's own work alone).
// CONNECTOR_SHARE_CONNECTOR=DIR runs the socketbus mode with another copy of
// clients/node (to compare a change with what it replaces in one session).
// CONNECTOR_SHARE_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the
// server processes (V8's .cpuprofile, one per server).
// --publisher steps (the default) publishes each 1 ms step's messages in one
// pipelined write on a fixed schedule (steps.c), as the plain driver's timer
// hands them to the node; "anchor" is bench/anchor's pub, which sends what is
// due as soon as its last replies are back (a trickle of 1-2 messages per
// write at these rates on an idle machine), the publisher of the figures
// before 2026-12-06 10:30.
// The node's CPU is read from outside (/proc/<pid>/task/*/schedstat, every
// thread) from just before the first message to the last client's receipt.

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { fork, spawn, execFileSync } = require("node:child_process");

const ROOT = path.resolve(__dirname, "../..");
const VECTORS = path.resolve(ROOT, "../shared/vectors/captured.jsonl");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => process.stderr.write(`connector-share: ${m}\n`);

function options() {
  const o = { clients: 1, messages: 30000, rates: "10000,20000", rounds: 3, modes: "socketbus,plain,stock", busd: path.join(ROOT, ".build/release/busd"), publisher: "steps", interleave: 0, "plain-frame": "two" };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in o)) throw new Error(`unknown option ${argv[i]}`);
    o[key] = typeof o[key] === "number" ? Number(argv[i + 1]) : argv[i + 1];
  }
  o.modes = o.modes.split(",");
  o.rates = o.rates.split(",").map(Number);
  o.busd = path.resolve(o.busd);
  return o;
}

function cpuNs(pid) {
  let total = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {}
  }
  return total;
}

const children = [];
/** Extra node options for the server process (CONNECTOR_SHARE_NODE_ARGS). */
function nodeArgs() {
  return (process.env.CONNECTOR_SHARE_NODE_ARGS || "").split(" ").filter(Boolean);
}

/** busd on `dir`/busd.sock, once its socket is there. */
async function startBusd(o, redisSock, dir) {
  const where = path.join(dir, "busd.sock");
  if (fs.existsSync(where)) fs.unlinkSync(where);
  const args = ["--redis", `unix://${redisSock}`, "--socket", where, "--node-id", "share", "--http", "off", "--log-level", "warning"];
  const busd = track(spawn(o.busd, args, { stdio: ["ignore", "pipe", "pipe"] }), "busd");
  await waitFor("busd", () => fs.existsSync(where) || busd.exitCode !== null);
  return { busd, where };
}

/** The socket.io server (`mode`: socketbus or plain, on `where`) and its
 * clients, once every client is in the room and half a second has passed. */
async function startServerAndClients(o, mode, where, execArgv) {
  const server = track(fork(path.join(__dirname, "server.js"), [mode, where], { stdio: ["ignore", "pipe", "inherit", "ipc"], execArgv }), `server ${mode}`);
  const { port } = await nextMessage(server, "ready", 30000);
  const clients = track(fork(path.join(__dirname, "clients.js"), [String(port), String(o.clients)], { stdio: ["ignore", "pipe", "pipe", "ipc"] }), "clients");
  await nextMessage(clients, "connected", 60000);
  await waitFor("room members", async () => (await call(server, { cmd: "members" })).count === o.clients);
  await sleep(500);
  return { server, clients };
}

function track(child, name) {
  child.output = "";
  const keep = (chunk) => (child.output = (child.output + chunk).slice(-20000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.benchName = name;
  children.push(child);
  return child;
}

async function waitFor(what, check, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function nextMessage(child, key, ms = 120000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${child.benchName}: no '${key}' within ${ms} ms\n${child.output}`)), ms);
    const on = (m) => {
      if (m[key] !== undefined) {
        clearTimeout(timer);
        child.off("message", on);
        resolve(m);
      }
    };
    child.on("message", on);
  });
}

let nextId = 1;
function call(child, body) {
  const id = nextId++;
  const answer = new Promise((resolve) => {
    const on = (m) => {
      if (m.id === id) {
        child.off("message", on);
        resolve(m);
      }
    };
    child.on("message", on);
  });
  child.send({ id, ...body });
  return answer;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.send({ id: 0, cmd: "exit" });
  else child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await new Promise((r) => child.once("exit", r));
  clearTimeout(timer);
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const o = options();
  const capture = fs.readFileSync(VECTORS, "utf8").split("\n").filter(Boolean).map(JSON.parse)
    .find((v) => v.description === "emitter.to('roomA').emit('toRoom', {room:'roomA'})");
  const packet = capture.client_frame.slice(1); // without engine.io's "4"
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "connector-share-"));
  const pubBin = path.join(ROOT, "bench/.build/anchor/pub");
  fs.mkdirSync(path.dirname(pubBin), { recursive: true });
  execFileSync("cc", ["-O2", "-o", pubBin, path.join(ROOT, "bench/anchor/pub.c"), "-lhiredis"]);
  const stepsBin = path.join(ROOT, "bench/.build/connector-share/steps");
  fs.mkdirSync(path.dirname(stepsBin), { recursive: true });
  execFileSync("cc", ["-O2", "-o", stepsBin, path.join(__dirname, "steps.c"), "-lhiredis"]);
  if (!["steps", "anchor"].includes(o.publisher)) throw new Error(`--publisher is steps or anchor, not ${o.publisher}`);
  if (o.modes.includes("socketbus") && !fs.existsSync(o.busd)) throw new Error(`no busd at ${o.busd} (swift build -c release --product busd)`);

  const bins = { pubBin, stepsBin, capture, packet };
  const redisSock = path.join(dir, "redis.sock");
  const redisPort = 20000 + Math.floor(Math.random() * 20000);
  const redis = track(spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--unixsocket", redisSock, "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] }), "redis-server");
  await waitFor("redis-server", () => redis.output.includes("Ready to accept connections"));

  if (o.interleave > 0) {
    await interleaved(o, bins, redisSock);
    for (const child of children.reverse()) await stop(child).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
    return;
  }
  const results = {};
  const load = [os.loadavg().map((x) => x.toFixed(2)).join(" ")];
  for (const rate of o.rates) for (let round = 0; round < o.rounds; round++) {
    const order = round % 2 ? [...o.modes].reverse() : o.modes;
    for (const mode of order) {
      const key = `${mode} @ ${rate ? `${rate}/s` : "unpaced"}`;
      let busd = null;
      let where = String(redisPort);
      if (mode === "socketbus") {
        ({ busd, where } = await startBusd(o, redisSock, dir));
      }
      const { server, clients } = await startServerAndClients(o, mode, where, nodeArgs());
      const total = o.messages * o.clients;
      const armed = nextMessage(clients, "armed");
      clients.send({ cmd: "expect", total });
      await armed;
      const reached = nextMessage(clients, "reached", 300000);
      const t0 = process.hrtime.bigint();
      const link0 = await call(server, { cmd: "link" });
      const node0 = cpuNs(server.pid);
      const busd0 = busd ? cpuNs(busd.pid) : 0;
      let pub = null;
      let driven = null;
      if (mode === "plain") driven = call(server, { cmd: "drive", packet, count: o.messages, rate, oneBuffer: o["plain-frame"] === "one" });
      else if (o.publisher === "steps" && rate) pub = track(spawn(stepsBin, [redisSock, capture.channel, capture.hex, String(o.messages), String(rate)], { stdio: ["ignore", "pipe", "pipe"] }), "pub");
      else pub = track(spawn(pubBin, [redisSock, capture.channel, capture.hex, String(o.messages), ...(rate ? ["--rate", String(rate)] : [])], { stdio: ["ignore", "pipe", "pipe"] }), "pub");
      const got = await reached;
      const node1 = cpuNs(server.pid);
      const busd1 = busd ? cpuNs(busd.pid) : 0;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (pub && pub.exitCode === null) await new Promise((r) => pub.once("exit", r));
      const link1 = await call(server, { cmd: "link" });
      // The node's wake-ups: reads of busd's link, or the plain driver's timer turns.
      const framesPerRead = driven ? (await driven).sent / (await driven).ticks : link1.reads > link0.reads ? (link1.frames - link0.frames) / (link1.reads - link0.reads) : null;
      const row = { framesPerRead, node: (node1 - node0) / total / 1000, busd: busd ? (busd1 - busd0) / o.messages / 1000 : null, seconds, received: got.received };
      (results[key] ||= []).push(row);
      log(`round ${round + 1} ${key}: node ${row.node.toFixed(2)} µs per delivered packet${busd ? `, busd ${row.busd.toFixed(2)}, ${framesPerRead.toFixed(1)} frames per read of busd's link` : framesPerRead ? `, ${framesPerRead.toFixed(1)} packets per timer turn` : ""} (${got.received} in ${seconds.toFixed(2)} s)`);
      await stop(clients);
      await stop(server);
      if (busd) {
        busd.kill("SIGTERM");
        await new Promise((r) => (busd.exitCode !== null ? r() : busd.once("exit", r)));
      }
    }
  }
  load.push(os.loadavg().map((x) => x.toFixed(2)).join(" "));

  console.log(`connector-share: ${o.messages} messages per case to ${o.clients} WebSocket client(s) in roomA, ${o.rounds} rounds per rate (modes alternate), medians`);
  console.log(`  publisher: ${o.publisher === "steps" ? "steps.c, 1 ms steps on a fixed schedule" : "bench/anchor/pub.c (sends what is due as soon as its replies are back)"}; connector: ${process.env.CONNECTOR_SHARE_CONNECTOR || "clients/node"}; busd: ${o.busd}`);
  console.log(`  payload: ${capture.description}, ${capture.hex.length / 2} bytes; packet ${packet}`);
  console.log(`  machine: ${os.cpus().length} cores, load ${load[0]} at start, ${load[1]} at end`);
  console.log("");
  console.log("| mode @ rate | node CPU µs per delivered packet (median) | min – max | busd µs per message | node + busd, per delivered packet | messages per wake-up (frames per read of busd's link; plain: packets per timer turn) |");
  console.log("|---|---|---|---|---|---|");
  for (const [key, rows] of Object.entries(results)) {
    const node = rows.map((r) => r.node);
    const busd = rows.every((r) => r.busd !== null) ? median(rows.map((r) => r.busd)) : null;
    console.log(`| ${key} | ${median(node).toFixed(2)} | ${Math.min(...node).toFixed(2)} – ${Math.max(...node).toFixed(2)} | ${busd === null ? "-" : busd.toFixed(2)} | ${busd === null ? "-" : (median(node) + busd / o.clients).toFixed(2)} | ${rows.every((r) => r.framesPerRead) ? median(rows.map((r) => r.framesPerRead)).toFixed(1) : "-"} |`);
  }
  console.log("");
  for (const rate of o.rates) {
    const at = rate ? `${rate}/s` : "unpaced";
    const bus = results[`socketbus @ ${at}`];
    const plain = results[`plain @ ${at}`];
    if (!bus || !plain) continue;
    const perRound = bus.map((r, i) => r.node - plain[i].node);
    const share = median(bus.map((r) => r.node)) - median(plain.map((r) => r.node));
    console.log(`connector's own share @ ${at} (socketbus node − plain node): ${share.toFixed(2)} µs per delivered packet (difference of medians); per round: ${perRound.map((d) => d.toFixed(2)).join(", ")}; target < 1 µs`);
  }
  for (const child of children.reverse()) await stop(child).catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
}

// --interleave N: one socketbus server process (and busd) per rate, and N
// pairs of blocks of --messages each, alternating (socketbus then plain, then
// plain then socketbus): a socketbus block is the publisher's messages through
// busd and the connector; a plain block is the same server's plain drive
// (server.js), writing the same packets to the same clients without the
// connector. Both modes share the process, its heap and JIT state and the
// machine's load of the same minute; a full GC runs before each block (so no
// block pays for the garbage of the one before); the share is the median of
// the pairs' differences.
async function interleaved(o, { pubBin, stepsBin, capture, packet }, redisSock) {
  const dir = path.dirname(redisSock);
  const load = [os.loadavg().map((x) => x.toFixed(2)).join(" ")];
  const report = [];
  for (const rate of o.rates) {
    const { busd, where } = await startBusd(o, redisSock, dir);
    const { server, clients } = await startServerAndClients(o, "socketbus", where, ["--expose-gc", ...nodeArgs()]);
    const total = o.messages * o.clients;
    const rows = { socketbus: [], plain: [] };
    const block = async (mode) => {
      await call(server, { cmd: "gc" });
      const armed = nextMessage(clients, "armed");
      clients.send({ cmd: "expect", total });
      await armed;
      const reached = nextMessage(clients, "reached", 300000);
      const link0 = await call(server, { cmd: "link" });
      const node0 = cpuNs(server.pid);
      let pub = null;
      let driven = null;
      if (mode === "plain") driven = call(server, { cmd: "drive", packet, count: o.messages, rate, quiet: true, oneBuffer: o["plain-frame"] === "one" });
      else if (o.publisher === "steps" && rate) pub = track(spawn(stepsBin, [redisSock, capture.channel, capture.hex, String(o.messages), String(rate)], { stdio: ["ignore", "pipe", "pipe"] }), "pub");
      else pub = track(spawn(pubBin, [redisSock, capture.channel, capture.hex, String(o.messages), ...(rate ? ["--rate", String(rate)] : [])], { stdio: ["ignore", "pipe", "pipe"] }), "pub");
      await reached;
      const node1 = cpuNs(server.pid);
      if (pub && pub.exitCode === null) await new Promise((r) => pub.once("exit", r));
      if (driven) await driven;
      const link1 = await call(server, { cmd: "link" });
      const wakeups = driven ? (await driven).sent / (await driven).ticks : (link1.frames - link0.frames) / Math.max(1, link1.reads - link0.reads);
      const row = { node: (node1 - node0) / total / 1000, wakeups, gcMs: (link1.gc.ms - link0.gc.ms) * 1000 / total };
      rows[mode].push(row);
      return row;
    };
    await block("socketbus"); // warm-up of both paths, not counted
    await block("plain");
    rows.socketbus.length = rows.plain.length = 0;
    for (let pair = 0; pair < o.interleave; pair++) {
      const order = pair % 2 ? ["plain", "socketbus"] : ["socketbus", "plain"];
      for (const mode of order) await block(mode);
      const [b, p] = [rows.socketbus[pair], rows.plain[pair]];
      log(`${rate}/s pair ${pair + 1}: socketbus ${b.node.toFixed(2)} µs (${b.wakeups.toFixed(1)} frames per read, GC ${b.gcMs.toFixed(2)} µs), plain ${p.node.toFixed(2)} µs (${p.wakeups.toFixed(1)} per turn, GC ${p.gcMs.toFixed(2)} µs): ${(b.node - p.node).toFixed(2)}`);
    }
    report.push({ rate, rows });
    await stop(clients);
    await stop(server);
    busd.kill("SIGTERM");
    await new Promise((r) => (busd.exitCode !== null ? r() : busd.once("exit", r)));
  }
  load.push(os.loadavg().map((x) => x.toFixed(2)).join(" "));
  console.log(`connector-share --interleave: ${o.interleave} pairs of blocks of ${o.messages} messages to ${o.clients} WebSocket client(s) in roomA, one socketbus server process per rate, modes alternating within it`);
  console.log(`  publisher: ${o.publisher}; connector: ${process.env.CONNECTOR_SHARE_CONNECTOR || "clients/node"}; busd: ${o.busd}; plain's frame in ${o["plain-frame"]} buffer(s)`);
  console.log(`  machine: ${os.cpus().length} cores, load ${load[0]} at start, ${load[1]} at end`);
  console.log("");
  console.log("| rate | socketbus node µs per delivered packet (median) | plain (median) | share: median of pair differences | pairs' differences min – max | GC µs per packet, socketbus / plain | frames per read / packets per turn |");
  console.log("|---|---|---|---|---|---|---|");
  for (const { rate, rows } of report) {
    const diffs = rows.socketbus.map((r, i) => r.node - rows.plain[i].node);
    const m = (mode, key) => median(rows[mode].map((r) => r[key]));
    console.log(`| ${rate ? `${rate}/s` : "unpaced"} | ${m("socketbus", "node").toFixed(2)} | ${m("plain", "node").toFixed(2)} | ${median(diffs).toFixed(2)} | ${Math.min(...diffs).toFixed(2)} – ${Math.max(...diffs).toFixed(2)} | ${m("socketbus", "gcMs").toFixed(2)} / ${m("plain", "gcMs").toFixed(2)} | ${m("socketbus", "wakeups").toFixed(1)} / ${m("plain", "wakeups").toFixed(1)} |`);
  }
}

main().catch(async (err) => {
  process.stderr.write(`connector-share: ${err.stack || err}\n`);
  for (const child of children.reverse()) {
    try { child.kill("SIGKILL"); } catch {}
  }
  process.exit(1);
});
