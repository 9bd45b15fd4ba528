"use strict";
// The package as npm ships it: `npm pack` (offline, into a temporary folder)
// holds exactly package.json, README.md, index.js, index.d.ts and lib/; once
// unpacked into a node_modules of its own it loads by its name (through
// package.json's `exports`), runs inside real socket.io 4.8.1 against a fake
// busd, and its index.d.ts passes `tsc --strict` over a typed use of the
// whole API (test-support/types/usage.ts) and rejects a wrong one
// (wrong-usage.ts).

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { createRequire } = require("node:module");
const { execFileSync, spawnSync } = require("node:child_process");
const { FakeBusd } = require("../test-support/fake-busd");
const { stock, skipReason } = require("../test-support/stock");
const { waitFor, tempDir, quietLogger } = require("../test-support/wait");

const PACKAGE_DIR = path.resolve(__dirname, "..");
const TYPES_DIR = path.join(PACKAGE_DIR, "test-support", "types");
const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, "package.json"), "utf8"));

/** Every file under `dir`, relative to `base`, with / separators. */
function walk(dir, base = dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full, base) : [path.relative(base, full).split(path.sep).join("/")];
  });
}

function which(command) {
  return spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" }).stdout.trim() || null;
}

// One pack for the whole file; `npm pack` needs no network for a package without dependencies.
let packed = null;
function pack() {
  if (packed) return packed;
  const npm = which("npm");
  assert.ok(npm, "npm not found (scripts/ensure-deps.sh --python installs Debian's npm where node came without it)");
  const dir = tempDir("sbpack-");
  const output = execFileSync(
    npm,
    ["pack", "--json", "--ignore-scripts", "--offline", "--pack-destination", dir, "--cache", path.join(dir, ".npm-cache")],
    { cwd: PACKAGE_DIR, encoding: "utf8", timeout: 60000, env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" } },
  );
  const [report] = JSON.parse(output);
  const tarball = path.join(dir, report.filename);
  const entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
  // Unpacked where an application's require() finds it by name.
  const app = path.join(dir, "app");
  const installed = path.join(app, "node_modules", "@socketbus", "connector");
  fs.mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  packed = { dir, tarball, report, entries, app, installed };
  return packed;
}

test.after(() => packed && fs.rmSync(packed.dir, { recursive: true, force: true }));

test("npm pack: socketbus-connector-<version>.tgz holding package.json, README.md, index.js, index.d.ts and lib/, nothing else", () => {
  const { tarball, entries } = pack();
  assert.equal(path.basename(tarball), `socketbus-connector-${manifest.version}.tgz`);
  const lib = walk(path.join(PACKAGE_DIR, "lib")).map((file) => `package/lib/${file}`);
  assert.ok(lib.length >= 15, `lib/ has ${lib.length} files`);
  const expected = ["package/package.json", "package/README.md", "package/index.js", "package/index.d.ts", ...lib];
  assert.deepEqual([...entries].sort(), expected.sort());
});

test("package.json: entry points that exist in the pack, exports closed to lib/, engines, the optional socket.io peer", () => {
  const { installed } = pack();
  const shipped = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"));
  assert.deepEqual(shipped, manifest);
  assert.equal(shipped.name, "@socketbus/connector");
  for (const file of [shipped.main, shipped.types, shipped.exports["."].default, shipped.exports["."].types]) {
    assert.ok(fs.existsSync(path.join(installed, file)), `${file} is in the pack`);
  }
  // "types" must come first in a conditional export, or TypeScript never sees it.
  assert.equal(Object.keys(shipped.exports["."])[0], "types");
  assert.equal(shipped.engines.node, ">=18.14");
  assert.equal(shipped.dependencies, undefined, "the connector has no dependencies of its own");
  assert.match(shipped.peerDependencies["socket.io"], /^\^4\./);
  // The Emitter runs in processes without socket.io.
  assert.equal(shipped.peerDependenciesMeta["socket.io"].optional, true);
});

test("the packed code requires only Node's modules, its own files, and socket.io-parser and ws (which socket.io installs)", () => {
  const { installed } = pack();
  const bare = new Set();
  for (const file of walk(installed).filter((f) => f.endsWith(".js"))) {
    const source = fs.readFileSync(path.join(installed, file), "utf8");
    for (const [, name] of source.matchAll(/require\(\s*"([^"]+)"\s*\)/g)) {
      if (name.startsWith("node:")) continue;
      if (name.startsWith(".")) {
        const target = require.resolve(name, { paths: [path.dirname(path.join(installed, file))] });
        assert.ok(target.startsWith(installed + path.sep), `${file} requires ${name}, outside the pack`);
        continue;
      }
      bare.add(name);
    }
  }
  assert.deepEqual([...bare].sort(), ["socket.io-parser", "ws"]);
});

test("the unpacked package loads by its name; lib/ is not importable past `exports`", () => {
  const { app, installed } = pack();
  const requireFromApp = createRequire(path.join(app, "index.js"));
  assert.equal(requireFromApp.resolve("@socketbus/connector"), path.join(installed, "index.js"));
  const connector = requireFromApp("@socketbus/connector");
  assert.deepEqual(Object.keys(connector).sort(), ["BusConnection", "Emitter", "SocketBusAdapter", "createAdapter", "frames"]);
  assert.equal(requireFromApp("@socketbus/connector/package.json").version, manifest.version);
  assert.throws(() => requireFromApp("@socketbus/connector/lib/frames"), { code: "ERR_PACKAGE_PATH_NOT_EXPORTED" });
});

test("the unpacked package runs inside real socket.io: session, a broadcast to busd, busd's delivery to a client", { skip: skipReason || false }, async (t) => {
  const { app, installed } = pack();
  const { createAdapter } = createRequire(path.join(app, "index.js"))("@socketbus/connector");
  const dir = tempDir();
  const busd = new FakeBusd(path.join(dir, "busd.sock"));
  await busd.listen();
  const Adapter = createAdapter({ path: busd.path, logger: quietLogger(), initialDelayMs: 20, maxDelayMs: 100 });
  const httpServer = http.createServer();
  const io = new stock.Server(httpServer, { adapter: Adapter });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const client = stock.ioClient(`http://127.0.0.1:${httpServer.address().port}/`, {
    transports: ["websocket"], forceNew: true, reconnection: false,
  });
  t.after(async () => {
    client.close();
    await new Promise((resolve) => io.close(() => resolve()));
    await busd.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // The adapter socket.io made is the packed one, not the repository's.
  assert.ok(require.cache[path.join(installed, "lib", "adapter.js")], "the packed lib/adapter.js is loaded");
  await waitFor(() => Adapter.bus.connected, { what: "the session with the fake busd" });
  const received = [];
  client.on("news", (...args) => received.push(args));
  // The client may have connected while the session was awaited: its event is gone by then.
  if (!client.connected) await new Promise((resolve, reject) => (client.once("connect", resolve), client.once("connect_error", reject)));
  const socket = io.of("/").sockets.get(client.id);
  socket.join("room-1");
  io.to("room-1").emit("hello", "from the node");
  const broadcast = await busd.next((frame) => frame.type === "ROOMS_BROADCAST");
  assert.deepEqual(broadcast.rooms, ["room-1"]);
  assert.equal(Buffer.from(broadcast.packet).toString(), '2["hello","from the node"]');
  busd.send({ type: "DELIVER_TO_ROOMS", ackId: 0, flags: {}, namespace: "/", rooms: ["room-1"], except: [], packet: '2["news",1]', attachments: [] });
  await waitFor(() => received.length === 1, { what: "busd's delivery at the client" });
  assert.deepEqual(received, [[1]]);
  assert.equal(Adapter.stats().deliveries, 1);
});

/** Runs tsc over one file beside the unpacked package; returns { status, errors: ["file(line): TScode"] }. */
function typeCheck(file) {
  const tsc = which("tsc");
  assert.ok(tsc, "tsc not found (Debian's node-typescript; scripts/ensure-deps.sh --python installs it)");
  const { app } = pack();
  // socket.io-adapter's Adapter declaration (test-support/types says why it is ours).
  fs.cpSync(path.join(TYPES_DIR, "socket.io-adapter"), path.join(app, "node_modules", "socket.io-adapter"), { recursive: true });
  fs.copyFileSync(path.join(TYPES_DIR, file), path.join(app, file));
  const config = JSON.parse(fs.readFileSync(path.join(TYPES_DIR, "tsconfig.json"), "utf8"));
  const project = path.join(app, `tsconfig.${path.basename(file, ".ts")}.json`);
  fs.writeFileSync(project, JSON.stringify({ ...config, files: [file] }));
  const result = spawnSync(tsc, ["-p", project], { cwd: app, encoding: "utf8", timeout: 60000 });
  const output = `${result.stdout}${result.stderr}`;
  const errors = [...output.matchAll(/^(\S+)\((\d+),\d+\): error (TS\d+)/gm)].map(([, f, line, code]) => `${f}(${line}): ${code}`);
  return { status: result.status, errors, output };
}

test("index.d.ts: tsc --strict accepts a typed use of the whole API (and its @ts-expect-error misuses stay errors)", () => {
  const { status, output } = typeCheck("usage.ts");
  assert.equal(status, 0, `tsc rejected usage.ts:\n${output}`);
});

test("index.d.ts: tsc rejects a wrong use, on exactly the lines that are wrong", () => {
  const source = fs.readFileSync(path.join(TYPES_DIR, "wrong-usage.ts"), "utf8").split("\n");
  const expected = source.flatMap((line, i) => {
    const marked = line.match(/\/\/ expect (TS\d+)$/);
    return marked ? [`wrong-usage.ts(${i + 1}): ${marked[1]}`] : [];
  });
  assert.ok(expected.length >= 4);
  const { status, errors, output } = typeCheck("wrong-usage.ts");
  assert.notEqual(status, 0, output);
  assert.deepEqual(errors, expected, output);
});
