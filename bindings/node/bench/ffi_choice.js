'use strict';
// Why this package is a Node-API addon and not koffi: the cost of one hot-key check (as in
// hot_key.js) through this package's addon, and through koffi calling the same C function, with
// the same input (a string key) and the same output (a Decision object).
//
// The variants take turns, round after round, and each keeps its best round, so a machine busy
// with other work disturbs them alike.
//
// Usage: node bench/ffi_choice.js [checks per round] [rounds]   (koffi is a devDependency)

const koffi = require('koffi');

const { Limiter, libraryPath } = require('..');
const { bestNsPerCall, parseArgs } = require('./measure');

const KEY = 'client-000000000';
const WINDOW = { limit: 100, duration_us: 60_000_000 };

/** The hot-key check through koffi: two ways to get the decision out. */
function koffiChecks() {
  const lib = koffi.load(libraryPath);
  koffi.struct('sg_window', { limit: 'uint64_t', duration_us: 'uint64_t' });
  koffi.struct('sg_limiter_config', {
    struct_size: 'uint32_t',
    time_base: 'uint32_t',
    windows: 'const sg_window *',
    windows_len: 'size_t',
    max_keys: 'uint64_t',
    shards: 'uint32_t',
    max_key_len: 'uint32_t',
    on_full: 'uint32_t',
  });
  const decisionType = koffi.struct('sg_decision', {
    allowed: 'bool',
    window: 'uint32_t',
    limit: 'uint64_t',
    remaining: 'uint64_t',
    reset_after_us: 'uint64_t',
    retry_after_us: 'uint64_t',
  });
  koffi.opaque('sg_limiter');
  const limiterNew = lib.func(
    'uint32_t sg_limiter_new(const sg_limiter_config *config, _Out_ sg_limiter **out)',
  );
  const checkToObject = lib.func(
    'uint32_t sg_limiter_check(sg_limiter *limiter, const char *key, size_t key_len, uint64_t cost, _Out_ sg_decision *out)',
  );
  const checkToMemory = lib.func('sg_limiter_check', 'uint32_t', [
    'void *',
    'const char *',
    'size_t',
    'uint64_t',
    'void *',
  ]);

  const newLimiter = () => {
    const made = [null];
    const config = { struct_size: koffi.sizeof('sg_limiter_config'), windows: [WINDOW], windows_len: 1 };
    if (limiterNew(config, made) !== 0) throw new Error('sg_limiter_new failed');
    return made[0];
  };

  // Simplest: koffi converts the output struct into a JavaScript object.
  const objectLimiter = newLimiter();
  const structOut = () => {
    const d = {};
    if (checkToObject(objectLimiter, KEY, Buffer.byteLength(KEY), 1, d) !== 0)
      throw new Error('check failed');
    return {
      allowed: d.allowed,
      limit: Number(d.limit),
      remaining: Number(d.remaining),
      resetAfterMs: Number(d.reset_after_us) / 1000,
      retryAfterMs: Number(d.retry_after_us) / 1000,
      window: d.window,
    };
  };

  // Fastest found: the output in native memory read through typed arrays, as the addon does.
  const memoryLimiter = newLimiter();
  const decision = koffi.alloc(decisionType, 1);
  const words = new Uint32Array(koffi.view(decision, koffi.sizeof(decisionType)));
  const u64 = (i) => words[i] + words[i + 1] * 2 ** 32;
  const memoryOut = () => {
    if (checkToMemory(memoryLimiter, KEY, Buffer.byteLength(KEY), 1, decision) !== 0)
      throw new Error('check failed');
    return {
      allowed: (words[0] & 0xff) === 1,
      limit: u64(2),
      remaining: u64(4),
      resetAfterMs: u64(6) / 1000,
      retryAfterMs: u64(8) / 1000,
      window: words[1],
    };
  };
  return { structOut, memoryOut };
}

const { calls, runs } = parseArgs(500_000, 5);
const limiter = new Limiter({ windows: [{ limit: 100, durationMs: 60_000 }] });
const { structOut, memoryOut } = koffiChecks();
const variants = [
  ['Node-API addon (Limiter.check)', () => limiter.check(KEY)],
  ['koffi, decision as a struct out-parameter', structOut],
  ['koffi, decision read from native memory', memoryOut],
];
const best = variants.map(() => Infinity);
for (let round = 0; round < runs; round++) {
  variants.forEach(([, step], i) => {
    best[i] = Math.min(best[i], bestNsPerCall(step, calls, 1));
  });
}
variants.forEach(([name], i) => console.log(`hot_key ${name}: ${best[i].toFixed(1)} ns per check`));
limiter.close();
