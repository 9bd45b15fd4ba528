"use strict";
// Reads the hex dumps of docs/local-protocol.md: every "#### NAME example"
// heading is followed by a fenced block whose lines are
// `<label> <hex bytes> | <comment>`.

const fs = require("node:fs");
const path = require("node:path");

const DOC = path.resolve(__dirname, "../../../docs/local-protocol.md");
const DOC_V2 = path.resolve(__dirname, "../../../docs/local-protocol-v2.md");

function docExamples(file = DOC) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const examples = new Map();
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#### (\S+) example\s*$/.exec(lines[i]);
    if (!heading) continue;
    let j = i + 1;
    while (j < lines.length && !lines[j].startsWith("```")) j++;
    const hex = [];
    for (j++; j < lines.length && !lines[j].startsWith("```"); j++) {
      const bar = lines[j].indexOf("|");
      const tokens = (bar >= 0 ? lines[j].slice(0, bar) : lines[j]).trim().split(/\s+/).slice(1);
      for (const token of tokens) {
        if (!/^[0-9a-f]{2}$/i.test(token)) throw new Error(`${heading[1]} example: "${token}" is not a hex byte`);
        hex.push(token);
      }
    }
    examples.set(heading[1], Buffer.from(hex.join(""), "hex"));
  }
  return examples;
}

module.exports = { docExamples, DOC, DOC_V2 };
