"use strict";
// The processes of bench/cluster-calls/run.js: redis-server, busd, the
// Socket.IO servers (node.js) and their clients (clients.js), each tracked
// so that every one is stopped at the end.

const fs = require("node:fs");
const path = require("node:path");
const net = require("node:net");
const { fork, spawn } = require("node:child_process");

const ROOT = path.resolve(__dirname, "../..");
const BUSD = process.env.SOCKETBUS_BUSD || path.join(ROOT, ".build/release/busd");
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

module.exports = { BUSD, children, sleep, waitFor, startRedis, startServer, connectClients, stopAll };
