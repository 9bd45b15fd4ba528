#!/usr/bin/env node
// Generates Fixtures/js-number-strings.json: how Node.js writes doubles.
//
// Each entry is {"bits": 16 hex digits of the IEEE-754 pattern,
// "text": String(x), "json": JSON.stringify(x)}. The set is deterministic
// (a seeded xorshift64*, never Math.random), so re-running the script on the
// same Node.js major version reproduces the committed file byte for byte.
//
// Usage: node gen-number-strings.js > ../Fixtures/js-number-strings.json
"use strict";

const MASK64 = (1n << 64n) - 1n;
let state = 0x9e3779b97f4a7c15n;

/** xorshift64*: 64 pseudo-random bits as a BigInt. */
function next64() {
    state ^= state >> 12n;
    state ^= (state << 25n) & MASK64;
    state ^= state >> 27n;
    return (state * 0x2545f4914f6cdd1dn) & MASK64;
}

/** A pseudo-random integer in [0, n). */
function below(n) {
    return Number(next64() % BigInt(n));
}

const view = new DataView(new ArrayBuffer(8));

function bitsOf(x) {
    view.setFloat64(0, x);
    return view.getBigUint64(0);
}

function fromBits(bits) {
    view.setBigUint64(0, bits);
    return view.getFloat64(0);
}

const entries = [];
const seen = new Set();

/** Records a bit pattern once; bits are kept as given so NaN payloads survive. */
function addBits(bits) {
    const hex = bits.toString(16).padStart(16, "0");
    if (seen.has(hex)) return;
    seen.add(hex);
    const x = fromBits(bits);
    entries.push({ bits: hex, text: String(x), json: JSON.stringify(x) });
}

function add(x) {
    addBits(bitsOf(x));
}

// Edge values.
[
    0, -0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE,
    2.2250738585072014e-308, 2.225073858507201e-308, Number.EPSILON,
    2 ** 53, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 53), -(2 ** 53 - 1), 2 ** 53 - 0.5,
    2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64, -(2 ** 31), 2 ** 1023, 2 ** -1074, 2 ** -1022,
    1e21, 1e20, 999999999999999900000, 1e21 - 65536, 1e21 + 131072, 123456789012345680000,
    1e-6, 1e-7, 0.000001, 0.0000001, 1.5e-7, 9.999999999999999e-7, 1.0000000000000001e-6,
    0.1, 0.2, 0.3, 0.1 + 0.2, 1 / 3, 2 / 3, Math.PI, Math.E, Math.SQRT2,
    NaN, Infinity, -Infinity, 1, -1, 10, 100, 123.456, -123.456, -1.5e-9, 1.5, -0.5,
    4.35, 0.000123, 1234567.125, 1e-323, 1.7976931348623157e308, 5e-310,
    9007199254740993, 18014398509481984, 295147905179352830000, 4294967295, 4294967296,
].forEach(add);
addBits(0x7ff8000000000001n); // a NaN with a payload
addBits(0xfff8000000000000n); // a negative NaN

// Powers of ten, both signs.
for (let k = -30; k <= 30; k++) {
    add(Number("1e" + k));
    add(-Number("1e" + k));
}

// Fully random bit patterns: mostly extreme exponents, exponential notation.
for (let i = 0; i < 500; i++) addBits(next64());

// Random mantissas with exponents near zero: the plain-decimal notations.
for (let i = 0; i < 500; i++) {
    const exponent = BigInt(1023 - 80 + below(160)) << 52n;
    const sign = BigInt(below(2)) << 63n;
    addBits(sign | exponent | (next64() & ((1n << 52n) - 1n)));
}

// Short decimals written as text, so the shortest digits are the given ones.
for (let i = 0; i < 400; i++) {
    const digits = 1 + below(17);
    let mantissa = String(1 + below(9));
    for (let d = 1; d < digits; d++) mantissa += String(below(10));
    const sign = below(2) ? "-" : "";
    add(Number(`${sign}${mantissa}e${below(61) - 30}`));
}

// Integers of every size up to 2^70, and near the 1e21 switch.
for (let i = 0; i < 300; i++) {
    const bits = 1 + below(70);
    const n = next64() >> BigInt(64 - Math.min(bits, 64));
    add(Number(n) * (bits > 64 ? 2 ** (bits - 64) : 1) * (below(2) ? -1 : 1));
}
for (let i = 0; i < 100; i++) {
    add(1e21 * (0.9 + below(2000) / 10000));
    add(1e-7 * (0.9 + below(2000) / 10000));
}

process.stdout.write("[\n" + entries.map((e) => JSON.stringify(e)).join(",\n") + "\n]\n");
