'use strict';
// Timing shared by the benchmarks: the best of several runs, the figure least disturbed by other
// work on the machine.

/**
 * Nanoseconds per call of `step` over `runs` runs of `calls` calls each: the best run.
 *
 * @param {() => unknown} step one call
 * @param {number} calls calls per run
 * @param {number} runs
 * @returns {number}
 */
function bestNsPerCall(step, calls, runs) {
  let best = Infinity;
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) step();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / calls);
  }
  return best;
}

/**
 * Reads `[calls per run] [runs]` from the command line, with defaults.
 *
 * @param {number} calls
 * @param {number} runs
 * @returns {{ calls: number, runs: number }}
 */
function parseArgs(calls, runs) {
  const [callsArg, runsArg] = process.argv.slice(2).map(Number);
  const chosen = { calls: callsArg ?? calls, runs: runsArg ?? runs };
  if (
    !Number.isSafeInteger(chosen.calls) ||
    chosen.calls <= 0 ||
    !Number.isSafeInteger(chosen.runs) ||
    chosen.runs <= 0
  ) {
    console.error(`usage: node ${process.argv[1]} [calls per run > 0] [runs > 0]`);
    process.exit(2);
  }
  return chosen;
}

module.exports = { bestNsPerCall, parseArgs };
