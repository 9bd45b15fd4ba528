"use strict";
// Real redis-server and busd processes for the integration tests, each on a
// free port / temporary socket, with their output kept for failure reports.

const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");
const { spawn, spawnSync } = require("node:child_process");
const { RespClient } = require("./resp");
const { waitFor } = require("./wait");

// busd of this repository's build (`make test` sets SOCKETBUS_BIN_DIR).
const BUSD =
  process.env.SOCKETBUS_BUSD ||
  path.join(process.env.SOCKETBUS_BIN_DIR || path.resolve(__dirname, "../../../.build/debug"), "busd");
const REDIS_SERVER = process.env.REDIS_SERVER || "/usr/bin/redis-server";

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

class Child {
  constructor(command, args) {
    this.command = command;
    this.args = args;
    this.output = "";
    this.proc = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.proc.once("exit", (code, signal) => resolve({ code, signal })));
    const keep = (chunk) => (this.output = (this.output + chunk).slice(-200000));
    this.proc.stdout.on("data", keep);
    this.proc.stderr.on("data", keep);
  }

  get running() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async stop(signal = "SIGTERM") {
    if (this.running) this.proc.kill(signal);
    const timer = setTimeout(() => this.running && this.proc.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

async function startRedis() {
  const port = await freePort();
  const child = new Child(REDIS_SERVER, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  const client = await waitFor(async () => {
    if (!child.running) throw new Error(`redis-server exited:\n${child.output}`);
    try {
      const c = await RespClient.connect(port);
      await c.command("PING");
      return c;
    } catch {
      return null;
    }
  }, { timeout: 5000, what: "redis-server" });
  return { port, child, client, url: `redis://127.0.0.1:${port}` };
}

/** Copies busd to `dir` first: the shared binary may be replaced while tests run. */
function stableBusd(dir) {
  const copy = path.join(dir, "busd");
  if (!fs.existsSync(copy)) fs.copyFileSync(BUSD, copy);
  fs.chmodSync(copy, 0o755);
  return copy;
}

function busdHelp(binary) {
  const result = spawnSync(binary, ["--help"], { encoding: "utf8" });
  return `${result.stdout}${result.stderr}`;
}

async function startBusd(binary, { redisUrl, socketPath, nodeId, extra = [] }) {
  const child = new Child(binary, ["--redis", redisUrl, "--socket", socketPath, "--node-id", nodeId, "--log-level", "debug", ...extra]);
  await waitFor(async () => {
    if (!child.running) throw new Error(`busd exited:\n${child.output}`);
    return child.output.includes("node link listening") && fs.existsSync(socketPath);
  }, { timeout: 10000, what: "busd to listen" });
  return child;
}

module.exports = { BUSD, REDIS_SERVER, freePort, startRedis, startBusd, stableBusd, busdHelp, Child };
