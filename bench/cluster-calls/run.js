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
const { BUSD, children, sleep, waitFor, startRedis, startServer, connectClients, stopAll } = require("./processes");
const { cpuOf, cpuPerRound, cpuText, rawRequests, pct, median, fmt } = require("./measures");

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
