"use strict";
// emitter-confirm: issue 15 item 5. Confirmed emits from one publisher
// process (this one, the Emitter of clients/node on Debian's node-redis
// 4.5.1) to 1,000 real socket.io-client connections across two socketbus
// nodes (each a Socket.IO 4.8.1 server with the connector, in its own
// process, and its busd), on one redis-server, loopback.
//
//   node bench/emitter-confirm/run.js [--sockets 1000] [--emits 40] [--concurrency 1,4,16]
//
// Each client acks "bench-ack" with "pong". Two target forms:
//   room: emitter.to("ack-group") — members known from the nodes'
//         dispatched records, so each wait also lets the 250 ms quiet period pass;
//   ids:  emitter.to([...the 1,000 socket ids]) — every target known up front
//         (one HMGET), the wait ends at the last outcome.
// Per emit: publish → last outcome (result.timing.lastOutcomeMs) and
// publish → resolve. Per concurrency level (emits in flight at once):
// confirmed emits per second (every socket delivered). Needs
// ../shared/stock-socketio, redis-server and busd (SOCKETBUS_BUSD, default
// .build/release/busd).

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { performance } = require("node:perf_hooks");
const { children, waitFor, startRedis, startServer, connectClients, stopAll } = require("../cluster-calls/processes");
require("../cluster-calls/stock-path");
const { Emitter } = require(path.resolve(__dirname, "../../clients/node"));

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const SOCKETS = Number(option("--sockets", 1000));
const EMITS = Number(option("--emits", 40));
const LEVELS = option("--concurrency", "1,4,16").split(",").map(Number);
const started = Date.now();
const note = (text) => process.stderr.write(`emitter-confirm [${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}\n`);

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};
const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sbemitbench-"));
  const redis = await startRedis();
  const servers = [await startServer("socketbus", redis.port, 1, dir), await startServer("socketbus", redis.port, 2, dir)];
  const half = [Math.ceil(SOCKETS / 2), Math.floor(SOCKETS / 2)];
  for (const [i, server] of servers.entries()) await connectClients(server, half[i], half[i]);
  for (const [i, server] of servers.entries()) {
    await waitFor(`server ${i + 1}'s ack group`, async () => (await server.call("clients")).ackGroup === half[i]);
  }
  const { createClient } = require("redis");
  const client = createClient({ url: `redis://127.0.0.1:${redis.port}` });
  await client.connect();
  await waitFor("the registry", async () => (await client.hLen("socketbus:owner")) === SOCKETS);
  const ids = await client.hKeys("socketbus:owner");
  note(`${SOCKETS} clients on 2 socketbus nodes, all in the registry`);
  const emitter = new Emitter(client);
  const problems = [];

  async function confirmed(target) {
    const op = target === "room" ? emitter.to("ack-group") : emitter.to(ids);
    const result = await op.emitWithConfirmation("bench-ack", 1, { timeout: 30000 });
    if (result.delivered !== SOCKETS || !result.complete) problems.push(`${target}: ${result.delivered}/${result.expected} delivered, complete ${result.complete}`);
    return result;
  }

  const rows = [];
  for (const target of ["ids", "room"]) {
    await confirmed(target); // warm-up
    // Latency: one emit at a time.
    const last = [];
    const resolved = [];
    for (let i = 0; i < EMITS; i++) {
      const result = await confirmed(target);
      last.push(result.timing.lastOutcomeMs);
      resolved.push(result.timing.resolvedMs);
    }
    note(`${target}: ${EMITS} sequential emits done`);
    for (const level of LEVELS) {
      const total = Math.max(EMITS, level * 4);
      let next = 0;
      const lastHere = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: level }, async () => {
          while (next < total) {
            next++;
            lastHere.push((await confirmed(target)).timing.lastOutcomeMs);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      rows.push({ target, level, total, perSecond: total / seconds, p50: pct(lastHere, 50), p99: pct(lastHere, 99), seqP50: pct(last, 50), seqP99: pct(last, 99), resP50: pct(resolved, 50), resP99: pct(resolved, 99) });
      note(`${target}: concurrency ${level}: ${total} emits in ${seconds.toFixed(2)} s`);
    }
  }
  console.log(`\n### emitter-confirm: confirmed emits to ${SOCKETS} sockets on 2 socketbus nodes\n`);
  console.log(`${os.cpus().length} CPUs, ${os.cpus()[0]?.model}; busd ${process.env.SOCKETBUS_BUSD || ".build/release/busd"}; node ${process.version}; ${EMITS} timed sequential emits per target form\n`);
  console.log("| target | sequential: publish → last outcome p50 / p99 | sequential: publish → resolved p50 / p99 |");
  console.log("|---|---|---|");
  for (const target of ["ids", "room"]) {
    const r = rows.find((row) => row.target === target);
    console.log(`| ${target} | ${fmt(r.seqP50)} / ${fmt(r.seqP99)} ms | ${fmt(r.resP50)} / ${fmt(r.resP99)} ms |`);
  }
  console.log("\n| target | emits in flight | emits | confirmed emits/s | publish → last outcome p50 / p99 |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.target} | ${r.level} | ${r.total} | ${r.perSecond.toFixed(1)} | ${fmt(r.p50)} / ${fmt(r.p99)} ms |`);
  console.log(problems.length ? `\nProblems (${problems.length}): ${[...new Set(problems)].slice(0, 5).join("; ")}` : "\nEvery emit: all sockets delivered, complete.");
  await emitter.close();
  await client.quit();
  await stopAll(children);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch(async (error) => {
  process.stderr.write(`emitter-confirm: ${error.stack || error}\n`);
  await stopAll(children).catch(() => {});
  process.exit(1);
});
