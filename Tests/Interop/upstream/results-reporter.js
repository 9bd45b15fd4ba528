"use strict";
// A mocha reporter that writes one JSON line per test to $INTEROP_RESULTS:
// {"title": full title, "state": "passed" | "failed" | "pending", "error"}.
// run.py reads them; mocha's own output would mix with the tests' logging.

const fs = require("node:fs");
const Mocha = require("mocha");

const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_HOOK_END } = Mocha.Runner.constants;

class ResultsReporter {
  constructor(runner) {
    const file = process.env.INTEROP_RESULTS;
    const write = (entry) => fs.appendFileSync(file, `${JSON.stringify(entry)}\n`);
    runner.on(EVENT_TEST_PASS, (test) => write({ title: test.fullTitle(), state: "passed", ms: test.duration }));
    runner.on(EVENT_TEST_PENDING, (test) => write({ title: test.fullTitle(), state: "pending" }));
    runner.on(EVENT_TEST_FAIL, (test, error) =>
      // A failing hook fails the tests under it: reported with the hook's title.
      write({ title: test.fullTitle(), state: "failed", error: String((error && error.message) || error).slice(0, 300) }),
    );
  }
}

module.exports = ResultsReporter;
