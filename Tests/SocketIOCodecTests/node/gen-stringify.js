#!/usr/bin/env node
// Generates Fixtures/js-stringify.json: what Node.js writes for JSON.stringify
// and for socket.io-parser's deconstructPacket + JSON.stringify.
//
// Each case is {"name", "value": a description of a JavaScript value,
// "json": JSON.stringify(value) (null when it returns undefined),
// "placeholders": the same after deconstructPacket, "attachments": the
// extracted binaries as byte arrays}. Descriptions are JSON-safe:
//   {"t":"undefined"} {"t":"null"} {"t":"bool","v":b} {"t":"string","v":s}
//   {"t":"number","bits":"16 hex digits"} {"t":"date","ms":n}
//   {"t":"buffer","bytes":[...]} {"t":"arraybuffer","bytes":[...]}
//   {"t":"array","items":[...]}
//   {"t":"object","keys":[...],"items":[...]}  keys in insertion order,
//     each defined like JSON.parse does (CreateDataProperty), so a later
//     duplicate keeps the first position and "__proto__" is an own property.
//
// deconstructPacket comes from the Debian package node-socket.io-parser
// (socket.io-parser 4.2.1); pass another path as the first argument.
//
// Usage: node gen-stringify.js > ../Fixtures/js-stringify.json
"use strict";

const parserPath = process.argv[2] || "/usr/share/nodejs/socket.io-parser/build/cjs/binary.js";
const { deconstructPacket } = require(parserPath);

const view = new DataView(new ArrayBuffer(8));
function bitsOf(x) {
    view.setFloat64(0, x);
    return view.getBigUint64(0).toString(16).padStart(16, "0");
}

// Description helpers.
const U = { t: "undefined" };
const date = (ms) => ({ t: "date", ms });
const buf = (...bytes) => ({ t: "buffer", bytes });
const ab = (...bytes) => ({ t: "arraybuffer", bytes });
const obj = (...pairs) => ({ t: "object", keys: pairs.map((p) => p[0]), items: pairs.map((p) => d(p[1])) });

/** Describes a plain JavaScript value; descriptions pass through unchanged. */
function d(x) {
    if (x === undefined) return U;
    if (x === null) return { t: "null" };
    if (typeof x === "boolean") return { t: "bool", v: x };
    if (typeof x === "number") return { t: "number", bits: bitsOf(x) };
    if (typeof x === "string") return { t: "string", v: x };
    if (Array.isArray(x)) return { t: "array", items: x.map(d) };
    if (typeof x.t === "string") return x;
    return obj(...Object.keys(x).map((k) => [k, x[k]]));
}

/** Builds the JavaScript value a description stands for. */
function build(node) {
    switch (node.t) {
        case "undefined": return undefined;
        case "null": return null;
        case "bool": case "string": return node.v;
        case "number": view.setBigUint64(0, BigInt("0x" + node.bits)); return view.getFloat64(0);
        case "date": return new Date(node.ms);
        case "buffer": return Buffer.from(node.bytes);
        case "arraybuffer": return new Uint8Array(node.bytes).buffer;
        case "array": return node.items.map(build);
        case "object": {
            const o = {};
            node.keys.forEach((k, i) => Object.defineProperty(o, k, {
                value: build(node.items[i]), enumerable: true, writable: true, configurable: true,
            }));
            return o;
        }
    }
    throw new Error("unknown description " + node.t);
}

let controls = "";
for (let c = 0; c < 0x20; c++) controls += String.fromCharCode(c);

const cases = [
    ["empty string", ""],
    ["all C0 controls", controls],
    ["controls between text", "a\u0000b\u0001c\u001fd\u0008e\u000cf\u000ag\u000dh\u0009i\u000bj"],
    ["quotes and backslashes", 'say "hi" \\ back\\\\slash / "'],
    ["DEL is raw", "x\u007fy"],
    ["line and paragraph separators are raw", "\u2028 and \u2029"],
    ["emoji and modifiers", "😀 👍🏽 👨‍👩‍👧"],
    ["non-ASCII text", "é ñ 中文 Ω \u00a0 \ufeff \uffff"],
    ["highest scalar", "\u{10FFFF}"],
    ["script tag", "</script><!--"],
    ["top-level undefined", U],
    ["top-level null", null],
    ["true", true],
    ["false", false],
    ["numbers in an array", [0, -0, 1.5, -1e-7, 1e21, NaN, Infinity, -Infinity, 5e-324, 2 ** 53]],
    ["undefined in arrays", [1, U, null, [U], [[U, 2]]]],
    ["undefined members skipped", obj(["a", U], ["b", 1], ["c", U], ["d", obj(["e", U])])],
    ["only undefined members", obj(["a", U])],
    ["empty containers", [[], {}, [[]], obj(["a", []])]],
    ["integer-like keys", obj(["b", 1], ["2", 2], ["1", 3], ["01", 4], ["4294967295", 5], ["4294967294", 6])],
    ["more key orders", obj(["z", 1], ["10", 2], ["9", 3], ["0", 4], ["-1", 5], ["1.5", 6], ["00", 7], [" 1", 8], ["a", 9])],
    ["duplicate key keeps first place", obj(["a", 1], ["b", 2], ["a", 3])],
    ["keys needing escapes", obj(["\"q\"", 1], ["\\", 2], ["\n", 3], ["é😀", 4], ["", 5])],
    ["__proto__ own property", obj(["__proto__", 1], ["x", 2])],
    ["__proto__ object value", obj(["a", 1], ["__proto__", obj(["b", 2])], ["c", 3])],
    ["nested structures", obj(["list", [1, "two", obj(["three", [3]])]], ["flag", false], ["none", null])],
    ["socket.io event", ["findSocket", obj(["hello", "world"], ["n", 1])]],
    ["date epoch", date(0)],
    ["date before epoch", date(-1)],
    ["date leap day", date(951782400000)],
    ["date 1899", date(-2208988800001)],
    ["date year 9999 end", date(253402300799999)],
    ["date year 10000", date(253402300800000)],
    ["date year 0", date(-62167219200000)],
    ["date year -1", date(-62198755200000)],
    ["date max", date(8.64e15)],
    ["date min", date(-8.64e15)],
    ["date past max is invalid", date(8.64e15 + 1)],
    ["date NaN", date(NaN)],
    ["date fraction truncated", date(1.5)],
    ["date negative fraction truncated", date(-1.5)],
    ["dates in structures", [date(0), obj(["at", date(1e12)]), date(NaN)]],
    ["buffer", buf(1, 2, 3)],
    ["empty buffer", buf()],
    ["buffer with high bytes", buf(0, 127, 128, 255)],
    ["arraybuffer", ab(1, 2)],
    ["empty arraybuffer", ab()],
    ["binaries in order", [buf(1), obj(["a", buf(2)], ["b", [buf(3), ab(4)]]), buf(5)]],
    ["binaries by key order", obj(["b", buf(1)], ["1", buf(2)], ["a", [ab(3), U, buf(4)]], ["0", ab(5)])],
    ["binary under __proto__", [buf(1), obj(["__proto__", obj(["x", buf(2)])], ["y", buf(3)]), buf(4)]],
    ["binary as __proto__", obj(["__proto__", buf(1)], ["z", buf(2)])],
    ["binary next to dates", [date(0), buf(9), obj(["d", date(NaN)], ["b", ab(8)])]],
];

function bytesOf(binary) {
    return Array.from(binary instanceof ArrayBuffer ? new Uint8Array(binary) : binary);
}

const out = cases.map(([name, x]) => {
    const value = d(x);
    const json = JSON.stringify(build(value));
    const { packet, buffers } = deconstructPacket({ type: 2, nsp: "/", data: build(value) });
    const placeholders = JSON.stringify(packet.data);
    return {
        name,
        value,
        json: json === undefined ? null : json,
        placeholders: placeholders === undefined ? null : placeholders,
        attachments: buffers.map(bytesOf),
    };
});

process.stdout.write("[\n" + out.map((c) => JSON.stringify(c)).join(",\n") + "\n]\n");
