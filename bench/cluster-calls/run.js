"use strict";
// cluster-calls: issue 13 item 9's end-to-end figures, socketbus nodes against
// stock nodes in the same run, on loopback.
//
//   node bench/cluster-calls/run.js [--sockets N] [--ack-clients N] [--rounds N] [--modes stock,socketbus,mixed]
//
// For each mode, a cluster of 3 Socket.IO 4.8.1 servers (own processes) on
// one redis-server, N real socket.io-client connections (WebSocket) to each
// (default 10000), of which ack-clients / 3 per server are in the room
// "ack-group" (default 1000 in all). All the clusters are up at once, each on
// its own redis-server, and each round makes the call on every cluster in
// turn, so that they share the machine's load alike. Timed on server 1 from
// the call to the result, ROUNDS times each (default 7, after one warm-up):
//   1. `io.fetchSockets()`: every socket of the cluster, 3 × N;
//   2. `io.to("ack-group").timeout(60000).emit("bench-ack", 1, cb)`: until
//      the callback has every client's ack.
// Modes: stock (@socket.io/redis-adapter 8.3.0 on every server), socketbus
// (the connector and a busd per server), mixed (server 1 socketbus, 2 and 3
// stock). Needs ../shared/stock-socketio, redis-server and busd
// (SOCKETBUS_BUSD, default .build/release/busd).

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const net = require("node:net");
const { fork, spawn } = require("node:child_process");
const { performance } = require("node:perf_hooks");

const ROOT = path.resolve(__dirname, "../..");
const BUSD = process.env.SOCKETBUS_BUSD || path.join(ROOT, ".build/release/busd");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const SOCKETS = Number(option("--sockets", 10000));
const ACK_CLIENTS = Number(option("--ack-clients", 1000));
const ROUNDS = Number(option("--rounds", 7));
const MODES = option("--modes", "stock,socketbus,mixed").split(",");
const RAW_ROUNDS = Number(option("--raw-rounds", 100));
const started = Date.now();
const note = (text) => process.stderr.write(`cluster-calls [${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
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

async function waitFor(what, condition, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A forked child speaking {id, cmd} / {id, ...} over IPC. */
function ipc(child) {
  let next = 1;
  const pending = new Map();
  child.on("message", (m) => {
    if (m.id && pending.has(m.id)) {
      pending.get(m.id).resolve(m);
      pending.delete(m.id);
    }
  });
  child.once("exit", () => {
    for (const { reject } of pending.values()) reject(new Error(`${child.benchName} exited:\n${child.output}`));
    pending.clear();
  });
  return (cmd) =>
    new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd });
    });
}

async function startRedis() {
  const port = await freePort();
  const child = track(spawn("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] }), "redis-server");
  await waitFor("redis-server", () => child.output.includes("Ready to accept connections"));
  return { port, child };
}

async function startServer(kind, redisPort, index, dir) {
  let busd = null;
  let where = String(redisPort);
  if (kind === "socketbus") {
    where = path.join(dir, `busd-${index}.sock`);
    busd = track(
      spawn(BUSD, ["--redis", `redis://127.0.0.1:${redisPort}`, "--socket", where, "--node-id", `bench-${index}`, "--http", "off", "--log-level", "warning"], {
        stdio: ["ignore", "pipe", "pipe"],
      }),
      `busd ${index}`,
    );
    await waitFor(`busd ${index}`, () => fs.existsSync(where) || busd.exitCode !== null);
    if (busd.exitCode !== null) throw new Error(`busd exited:\n${busd.output}`);
  }
  const node = track(fork(path.join(__dirname, "node.js"), [kind, where], { stdio: ["ignore", "pipe", "pipe", "ipc"] }), `server ${index} (${kind})`);
  const ready = await new Promise((resolve, reject) => {
    node.on("message", (m) => m.ready && resolve(m));
    node.once("exit", () => reject(new Error(`server ${index} exited:\n${node.output}`)));
  });
  return { kind, index, busd, node, port: ready.port, call: ipc(node) };
}

async function connectClients(server, count, group) {
  const child = track(fork(path.join(__dirname, "clients.js"), [String(server.port), String(count), String(group)], { stdio: ["ignore", "pipe", "pipe", "ipc"] }), `clients of ${server.index}`);
  const result = await new Promise((resolve, reject) => {
    child.on("message", (m) => m.done && resolve(m));
    child.once("exit", () => reject(new Error(`clients exited:\n${child.output}`)));
  });
  if (result.connected !== count) throw new Error(`only ${result.connected} of ${count} clients connected to server ${server.index} (${result.failed} failed)`);
  return child;
}

async function stopAll(list) {
  for (const child of list.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    if (child.connected) child.send({ id: 0, cmd: "exit" });
    else child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await new Promise((r) => child.once("exit", r));
    clearTimeout(timer);
  }
}

/** CPU milliseconds (user + system) of a process so far, from /proc. */
function cpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}
const cpuOf = (servers) => servers.map((s) => ({ busd: s.busd ? cpuMs(s.busd.pid) : null, node: cpuMs(s.node.pid) }));
/** CPU ms per round of each server's node process and busd between two readings. */
function cpuPerRound(before, after, rounds) {
  return after.map((a, i) => ({
    node: (a.node - before[i].node) / rounds,
    busd: a.busd === null ? null : (a.busd - before[i].busd) / rounds,
  }));
}
const cpuText = (perServer) =>
  perServer.map((c, i) => `server ${i + 1}: node ${c.node.toFixed(0)}` + (c.busd === null ? "" : ` + busd ${c.busd.toFixed(0)}`)).join("; ");

/**
 * Requests published straight on Redis as a stock 8.3 node publishes them
 * (JSON on socket.io-request#/#), timed from PUBLISH to the answers of all 3
 * servers (and to the first): each server's own time to answer, with no
 * requesting node in the way. Sequential; `rounds` per kind (a third of it for
 * REMOTE_FETCH, whose answers are megabytes).
 */
async function rawRequests(ports, rounds) {
  require("./stock-path");
  const { createClient } = require("redis");
  const links = [];
  for (const port of ports) {
    const pub = createClient({ url: `redis://127.0.0.1:${port}` });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    const link = { pub, sub, waiting: null };
    await sub.subscribe(
      "socket.io-response#/#",
      (message) => {
        const w = link.waiting;
        if (w && message.indexOf(w.needle) >= 0) {
          w.times.push(performance.now() - w.t0);
          if (w.times.length === 3) w.resolve();
        }
      },
      true,
    );
    links.push(link);
  }
  const kinds = [
    ["SOCKETS (type 0), every socket", (id) => ({ uid: "bench0", requestId: id, type: 0, rooms: [] }), rounds],
    ["ALL_ROOMS (type 1)", (id) => ({ uid: "bench0", requestId: id, type: 1 }), rounds],
    ["REMOTE_FETCH (type 5), every socket", (id) => ({ uid: "bench0", requestId: id, type: 5, opts: { rooms: [], except: [] } }), Math.max(3, Math.floor(rounds / 4))],
  ];
  const results = links.map(() => []);
  let serial = 0;
  for (const [name, make, count] of kinds) {
    const per = links.map(() => ({ name, first: [], all: [], missing: 0, count }));
    for (let i = -2; i < count; i++) {
      for (const [k, link] of links.entries()) {
        const id = `R${String(serial++).padStart(5, "0")}`;
        const done = new Promise((resolve) => (link.waiting = { needle: Buffer.from(`"${id}"`), times: [], resolve, t0: 0 }));
        link.waiting.t0 = performance.now();
        await link.pub.publish("socket.io-request#/#", JSON.stringify(make(id)));
        let timer;
        const outcome = await Promise.race([done, new Promise((resolve) => (timer = setTimeout(() => resolve("timeout"), 10000)))]);
        clearTimeout(timer);
        const times = link.waiting.times;
        link.waiting = null;
        if (i < 0) continue; // warm-up
        if (outcome === "timeout") per[k].missing++;
        if (times.length > 0) per[k].first.push(times[0]);
        if (times.length === 3) per[k].all.push(times[2]);
      }
    }
    per.forEach((x, k) => results[k].push(x));
  }
  for (const { pub, sub } of links) await Promise.all([pub.quit(), sub.quit()]);
  return results;
}

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (values) => values.map((v) => v.toFixed(1)).join(" / ");

/** One cluster of 3 servers, on its own redis-server, with its clients connected. */
async function setUp(mode, dir) {
  const kinds = mode === "stock" ? ["stock", "stock", "stock"] : mode === "socketbus" ? ["socketbus", "socketbus", "socketbus"] : ["socketbus", "stock", "stock"];
  const redis = await startRedis();
  const servers = [];
  for (let i = 0; i < 3; i++) servers.push(await startServer(kinds[i], redis.port, `${mode}-${i + 1}`, dir));
  note(`${mode}: 3 servers up; connecting ${SOCKETS} clients to each`);
  const perServerGroup = [0, 1, 2].map((i) => Math.floor(ACK_CLIENTS / 3) + (i < ACK_CLIENTS % 3 ? 1 : 0));
  for (const [i, server] of servers.entries()) {
    const t0 = Date.now();
    await connectClients(server, SOCKETS, perServerGroup[i]);
    note(`${mode}: server ${i + 1}: ${SOCKETS} clients in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  for (const server of servers) {
    await waitFor(`server ${server.index}'s sockets`, async () => (await server.call("clients")).count === SOCKETS);
  }
  const counts = await Promise.all(servers.map((s) => s.call("serverCount")));
  return { mode, kinds, redis, servers, results: { mode, kinds, serverCounts: counts.map((c) => c.count), fetch: [], ack: [], problems: [] } };
}

/**
 * One call on server 1 of every cluster in turn, round after round, so that
 * the clusters share the machine's load alike; CPU per round of each
 * cluster's processes over the phase.
 */
async function interleaved(clusters, what, cmd, check) {
  note(`${what}: 1 warm-up + ${ROUNDS} rounds, the clusters in turn`);
  for (const c of clusters) await c.servers[0].call(cmd);
  const cpu0 = clusters.map((c) => cpuOf(c.servers));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of clusters) {
      const r = await c.servers[0].call(cmd);
      const problem = check(r);
      if (problem) c.results.problems.push(`${what} round ${round}: ${problem}`);
      c.results[cmd].push(r.ms);
    }
  }
  await sleep(200); // /proc's ticks are 10 ms; let the last answers finish
  clusters.forEach((c, i) => (c.results[`${cmd}Cpu`] = cpuPerRound(cpu0[i], cpuOf(c.servers), ROUNDS)));
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cluster-calls-"));
  if (MODES.some((m) => m !== "stock") && !fs.existsSync(BUSD)) throw new Error(`busd not found at ${BUSD} (swift build -c release --product busd, or SOCKETBUS_BUSD)`);
  const all = [];
  try {
    const clusters = [];
    for (const mode of MODES) clusters.push(await setUp(mode, dir));
    const total = 3 * SOCKETS;
    await interleaved(clusters, "fetchSockets", "fetch", (r) => r.error || (r.count !== total ? `${r.count} sockets of ${total}` : null));
    await interleaved(clusters, `acked broadcast to ${ACK_CLIENTS} clients`, "ack", (r) =>
      r.error || r.count !== ACK_CLIENTS ? `${r.error || ""} ${r.count} acks of ${ACK_CLIENTS}` : null,
    );
    if (RAW_ROUNDS > 0) {
      note(`requests published on Redis, answered by the 3 servers, the clusters in turn`);
      const raw = await rawRequests(clusters.map((c) => c.redis.port), RAW_ROUNDS);
      clusters.forEach((c, i) => (c.results.raw = raw[i]));
    }
    for (const c of clusters) all.push(c.results);
  } finally {
    await stopAll(children.splice(0));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`cluster-calls: ${MODES.length} clusters up together (${MODES.join(", ")}), each of 3 Socket.IO 4.8.1 servers × ${SOCKETS} real socket.io-client connections (WebSocket, loopback) and its own redis-server; timed on server 1, call → result; ${ROUNDS} rounds after one warm-up, the clusters in turn in each round, ms`);
  console.log("");
  console.log("| mode | servers (1, 2, 3) | serverCount() on each | fetchSockets() of " + 3 * SOCKETS + ": median (rounds) | acked broadcast to " + ACK_CLIENTS + " clients, last ack: median (rounds) |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const r of all) {
    console.log(`| ${r.mode} | ${r.kinds.join(", ")} | ${r.serverCounts.join(", ")} | ${median(r.fetch).toFixed(1)} (${fmt(r.fetch)}) | ${median(r.ack).toFixed(1)} (${fmt(r.ack)}) |`);
  }
  if (RAW_ROUNDS > 0) {
    console.log("");
    console.log(`Requests published straight on Redis (stock 8.3 JSON), PUBLISH → the answer of every server (3 × ${SOCKETS} sockets; first answer in brackets), ms:`);
    console.log("");
    console.log("| request | " + all.map((r) => `${r.mode}: p50 (first) | ${r.mode}: p99 | ${r.mode}: max`).join(" | ") + " |");
    console.log("| --- | " + all.map(() => "--- | --- | ---").join(" | ") + " |");
    for (let k = 0; k < all[0].raw.length; k++) {
      const cells = all.map((r) => {
        const x = r.raw[k];
        const lost = x.missing ? ` (${x.missing} of ${x.count} short)` : "";
        return `${pct(x.all, 0.5).toFixed(2)} (${pct(x.first, 0.5).toFixed(2)})${lost} | ${pct(x.all, 0.99).toFixed(2)} | ${Math.max(...x.all).toFixed(2)}`;
      });
      console.log(`| ${all[0].raw[k].name}, ${all[0].raw[k].count} requests | ${cells.join(" | ")} |`);
    }
    for (const r of all) for (const x of r.raw) if (x.missing) r.problems.push(`${x.name}: ${x.missing} of ${x.count} requests without all 3 answers within 10 s`);
  }
  console.log("");
  console.log("CPU per call (ms, from /proc, the 200 ms after the last round included; the client processes not counted):");
  for (const r of all) {
    console.log(`  ${r.mode.padEnd(9)} fetchSockets:     ${cpuText(r.fetchCpu)}`);
    console.log(`  ${r.mode.padEnd(9)} acked broadcast:  ${cpuText(r.ackCpu)}`);
  }
  const stock = all.find((r) => r.mode === "stock");
  if (stock) {
    console.log("");
    for (const r of all.filter((x) => x !== stock)) {
      console.log(`${r.mode} / stock (medians): fetchSockets ${(median(r.fetch) / median(stock.fetch)).toFixed(2)}×, acked broadcast ${(median(r.ack) / median(stock.ack)).toFixed(2)}×`);
    }
  }
  let failed = false;
  for (const r of all) {
    for (const p of r.problems) {
      failed = true;
      console.log(`PROBLEM (${r.mode}): ${p}`);
    }
    if (r.serverCounts.some((c) => c !== 3)) {
      failed = true;
      console.log(`PROBLEM (${r.mode}): serverCount() gave ${r.serverCounts.join(", ")}, not 3 on each`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

process.on("SIGINT", () => stopAll(children.splice(0)).then(() => process.exit(130)));
main().catch(async (err) => {
  console.error(err.stack || err);
  await stopAll(children.splice(0));
  process.exit(1);
});
