'use strict';
// Nanoseconds per Limiter.check in the hot-key scenario of benches/limiter.rs: one 16-byte key,
// 100 requests per 60 s window, the library's clock. After the first 100 checks every check is
// a rejection, as with a client hammering one route.
//
// Usage: node bench/hot_key.js [checks per run] [runs]

const { Limiter } = require('..');
const { bestNsPerCall, parseArgs } = require('./measure');

const { calls, runs } = parseArgs(1_000_000, 5);
const limiter = new Limiter({ windows: [{ limit: 100, durationMs: 60_000 }] });
const key = 'client-000000000';
let admitted = 0;
const ns = bestNsPerCall(
  () => {
    if (limiter.check(key).allowed) admitted += 1;
  },
  calls,
  runs,
);
limiter.close();
// 100 admitted over all the runs: the window outlasts the benchmark.
console.log(
  `hot_key node: ${ns.toFixed(1)} ns per check (best of ${runs} runs of ${calls}; ${admitted} admitted)`,
);
process.exitCode = admitted === 100 ? 0 : 1;
