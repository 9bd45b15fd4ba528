"use strict";
// What bench/cluster-calls/run.js measures besides the timed calls: CPU per
// call from /proc, and stock requests published straight on Redis.

const fs = require("node:fs");
const { performance } = require("node:perf_hooks");

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

module.exports = { cpuOf, cpuPerRound, cpuText, rawRequests, pct, median, fmt };
