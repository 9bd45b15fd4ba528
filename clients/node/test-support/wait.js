"use strict";
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

/** Polls `check` until it returns something truthy (resolves with it) or the time-out passes. */
async function waitFor(check, { timeout = 10000, interval = 10, what = "a condition" } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A fresh temporary directory (short path: Unix socket paths are limited to 107 bytes). */
function tempDir(prefix = "sbconn-") {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A logger that keeps messages instead of printing them. */
function quietLogger() {
  const lines = [];
  return { lines, debug: (message) => lines.push(`debug ${message}`), warn: (message) => lines.push(`warn ${message}`) };
}

module.exports = { waitFor, sleep, tempDir, quietLogger };
