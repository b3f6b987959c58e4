'use strict';
// The limiter against the real library: decisions in the caller's time base, the library's
// clock, every error a call or a configuration can meet, and closing.

const test = require('node:test');
const assert = require('node:assert/strict');

const { Limiter, SluicegateError } = require('..');

const MINUTE = 60_000;
const CLIENT = '203.0.113.7';

/** A limiter in the caller's time base. */
function callerLimiter(windows, settings = {}) {
  return new Limiter({ windows, timeBase: 'caller', ...settings });
}

/** Asserts that `fn` throws a SluicegateError with `code` and, if given, a message matching. */
function throwsResult(fn, code, message) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof SluicegateError, `${err} is a SluicegateError`);
    assert.equal(err.name, 'SluicegateError');
    assert.equal(err.code, code);
    assert.equal(typeof err.result, 'number');
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

/** Asserts that `fn` throws `Kind` with Node's error `code`. */
function throwsNode(fn, Kind, code, message) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof Kind, `${err} is a ${Kind.name}`);
    assert.equal(err.code, code);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

test('a key exhausts its window and recovers at the exact time the decision gave', () => {
  const limiter = callerLimiter([
    { limit: 10, durationMs: 1_000 },
    { limit: 2, durationMs: MINUTE },
  ]);

  assert.deepEqual(limiter.checkAt(CLIENT, 0), {
    allowed: true,
    limit: 2,
    remaining: 1,
    resetAfterMs: MINUTE,
    retryAfterMs: 0,
    window: 1,
  });
  // A peek reports what a check would, and records nothing.
  assert.equal(limiter.peekAt(CLIENT, 1).remaining, 0);
  assert.equal(limiter.peekAt(CLIENT, 1).remaining, 0);
  const second = limiter.checkAt(CLIENT, 1);
  assert.equal(second.allowed, true);
  assert.equal(second.remaining, 0);

  const third = limiter.checkAt(CLIENT, 2);
  assert.equal(third.allowed, false);
  assert.equal(third.window, 1);
  assert.equal(third.remaining, 0);
  assert.equal(third.retryAfterMs, MINUTE - 2);
  // One microsecond early is still too early; the retry time itself is admitted.
  assert.equal(limiter.checkAt(CLIENT, MINUTE - 0.001).retryAfterMs, 0.001);
  assert.equal(limiter.checkAt(CLIENT, MINUTE).allowed, true);
  limiter.close();
});

test('keys are bytes: strings as UTF-8, Buffers and Uint8Arrays as they are', () => {
  const limiter = callerLimiter([{ limit: 3, durationMs: MINUTE }]);
  limiter.checkAt('clé', 0);
  limiter.checkAt(Buffer.from('clé', 'utf8'), 0);
  const third = limiter.checkAt(new Uint8Array(Buffer.from('clé', 'utf8')), 0);
  assert.equal(third.remaining, 0);
  // A key longer than the addon's inline buffer, and the empty key.
  const long = 'k'.repeat(1000) + 'é';
  assert.equal(limiter.checkAt(long, 0, 2).remaining, 1);
  assert.equal(limiter.checkAt(Buffer.from(long), 0).remaining, 0);
  assert.equal(limiter.checkAt('', 0).remaining, 2);
  assert.equal(limiter.checkAt(new Uint8Array(0), 0).remaining, 1);
  assert.equal(limiter.size, 3);
  limiter.close();
});

test('a time earlier than one already seen counts as the latest', () => {
  const limiter = callerLimiter([{ limit: 1, durationMs: 1_000 }]);
  limiter.checkAt(CLIENT, 5_000);
  const back = limiter.checkAt(CLIENT, 0);
  assert.equal(back.allowed, false);
  assert.equal(back.retryAfterMs, 1_000);
  limiter.close();
});

test('reset, remove, size and stats', () => {
  const limiter = callerLimiter([{ limit: 2, durationMs: MINUTE }]);
  limiter.checkAt(CLIENT, 0, 2);
  limiter.checkAt(CLIENT, 1);
  limiter.checkAt('other', 0, 2);
  assert.equal(limiter.size, 2);

  assert.equal(limiter.reset('other'), true);
  assert.equal(limiter.checkAt('other', 2, 2).allowed, true);
  assert.equal(limiter.remove('other'), true);
  assert.equal(limiter.remove('other'), false);
  assert.equal(limiter.reset('never seen'), false);
  assert.equal(limiter.size, 1);

  const stats = limiter.stats();
  assert.deepEqual(
    { ...stats, bytes: 0 },
    { keys: 1, allowed: 3, rejected: 1, evictions: 0, reclaimed: 0, refusedKeys: 0, bytes: 0 },
  );
  assert.ok(stats.bytes > 0);
  limiter.close();
});

test("the library's clock, with check and peek", () => {
  const limiter = new Limiter({ windows: [{ limit: 3, durationMs: MINUTE }] });
  assert.equal(limiter.peek('a', 3).remaining, 0);
  const full = limiter.check('a', 3);
  assert.equal(full.allowed, true);
  assert.ok(full.resetAfterMs > MINUTE - 1_000 && full.resetAfterMs <= MINUTE);
  const rejected = limiter.check('a');
  assert.equal(rejected.allowed, false);
  assert.ok(rejected.retryAfterMs > MINUTE - 1_000 && rejected.retryAfterMs <= MINUTE);
  limiter.close();
});

test('one time base per limiter, explained in this API', () => {
  const caller = callerLimiter([{ limit: 1, durationMs: 1_000 }]);
  throwsResult(() => caller.check(CLIENT), 'SG_WRONG_TIME_BASE', /call checkAt or peekAt/);
  throwsResult(() => caller.peek(CLIENT), 'SG_WRONG_TIME_BASE', /call checkAt or peekAt/);
  caller.close();
  const library = new Limiter({ windows: [{ limit: 1, durationMs: 1_000 }] });
  throwsResult(() => library.checkAt(CLIENT, 0), 'SG_WRONG_TIME_BASE', /call check or peek/);
  throwsResult(() => library.peekAt(CLIENT, 0), 'SG_WRONG_TIME_BASE', /call check or peek/);
  library.close();
});

test('every way a check can be refused, with the reason', () => {
  const limiter = new Limiter({
    windows: [{ limit: 3, durationMs: MINUTE }],
    maxKeyLength: 4,
    maxKeys: 1,
    shards: 1,
    onFull: 'reject-new-keys',
  });
  limiter.check('a');
  throwsResult(() => limiter.check('a', 0), 'SG_ZERO_COST');
  throwsResult(
    () => limiter.peek('a', 9),
    'SG_COST_EXCEEDS_LIMIT',
    /^cost 9 is above the limit 3 of a window, so it can never be admitted$/,
  );
  throwsResult(() => limiter.check('abcde'), 'SG_KEY_TOO_LONG');
  throwsResult(() => limiter.check('b'), 'SG_KEYS_EXHAUSTED');
  assert.equal(limiter.stats().refusedKeys, 1);
  // A full limiter that evicts (the default) admits the new key instead.
  const evicting = new Limiter({ windows: [{ limit: 3, durationMs: MINUTE }], maxKeys: 1, shards: 1 });
  evicting.check('a');
  assert.equal(evicting.check('b').allowed, true);
  assert.equal(evicting.stats().evictions, 1);
  evicting.close();
  limiter.close();
});

test('arguments of the wrong type or range are refused before the library sees them', () => {
  const limiter = callerLimiter([{ limit: 3, durationMs: MINUTE }]);
  for (const key of [42, null, undefined, {}, [1], new Uint16Array(2)]) {
    throwsNode(() => limiter.checkAt(key, 0), TypeError, 'ERR_INVALID_ARG_TYPE', /key/);
  }
  for (const cost of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
    throwsNode(() => limiter.checkAt(CLIENT, 0, cost), RangeError, 'ERR_OUT_OF_RANGE', /cost/);
  }
  throwsNode(() => limiter.checkAt(CLIENT, 0, '1'), RangeError, 'ERR_OUT_OF_RANGE', /cost/);
  throwsNode(() => limiter.checkAt(CLIENT, '0'), TypeError, 'ERR_INVALID_ARG_TYPE', /nowMs/);
  for (const now of [-1, NaN, Infinity, 2 ** 53]) {
    throwsNode(() => limiter.checkAt(CLIENT, now), RangeError, 'ERR_OUT_OF_RANGE', /nowMs/);
  }
  assert.equal(limiter.size, 0, 'nothing refused was recorded');
  limiter.close();
});

test('configurations the library refuses come with its reason', () => {
  const refused = (config, message) => throwsResult(() => new Limiter(config), 'SG_INVALID_CONFIG', message);
  refused({ windows: [{ limit: 0, durationMs: 1_000 }] }, /^window 0: the limit must be at least 1$/);
  refused({ windows: [] });
  refused({ windows: Array.from({ length: 9 }, (_, i) => ({ limit: 1, durationMs: i + 1 })) });
  refused({ windows: [{ limit: 1, durationMs: 1_000 }], shards: 3 }, /power of two/);
  refused({ windows: [{ limit: 1 }] });
});

test('settings of the wrong type, or unknown, are refused by name', () => {
  const window = { limit: 1, durationMs: 1_000 };
  const refused = (config, Kind, code, message) => throwsNode(() => new Limiter(config), Kind, code, message);
  refused(undefined, TypeError, 'ERR_INVALID_ARG_TYPE', /config/);
  refused({ windows: window }, TypeError, 'ERR_INVALID_ARG_TYPE', /config\.windows/);
  refused({ windows: [null] }, TypeError, 'ERR_INVALID_ARG_TYPE', /config\.windows\[0\]/);
  refused(
    { windows: [window], maxKey: 4 },
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    /config\.maxKey is not a setting/,
  );
  refused({ windows: [{ ...window, duration: 5 }] }, TypeError, 'ERR_INVALID_ARG_VALUE', /duration/);
  refused({ windows: [window], timeBase: 'wall' }, TypeError, 'ERR_INVALID_ARG_VALUE', /config\.timeBase/);
  refused({ windows: [window], onFull: 'drop' }, TypeError, 'ERR_INVALID_ARG_VALUE', /config\.onFull/);
  refused({ windows: [{ limit: 1.5, durationMs: 1 }] }, RangeError, 'ERR_OUT_OF_RANGE', /limit/);
  refused({ windows: [{ limit: 2 ** 32, durationMs: 1 }] }, RangeError, 'ERR_OUT_OF_RANGE', /limit/);
  refused({ windows: [{ limit: 1, durationMs: -1 }] }, RangeError, 'ERR_OUT_OF_RANGE', /durationMs/);
  refused({ windows: [{ limit: 1, durationMs: 0.0001 }] }, RangeError, 'ERR_OUT_OF_RANGE', /0\.001/);
  refused({ windows: [{ limit: '1', durationMs: 1 }] }, TypeError, 'ERR_INVALID_ARG_TYPE', /limit/);
  refused({ windows: [window], shards: -4 }, RangeError, 'ERR_OUT_OF_RANGE', /shards/);
});

test('a closed limiter refuses every call; closing twice is harmless', () => {
  const limiter = new Limiter({ windows: [{ limit: 1, durationMs: 1_000 }] });
  assert.equal(limiter.closed, false);
  limiter.close();
  limiter.close();
  assert.equal(limiter.closed, true);
  const calls = [
    () => limiter.check(CLIENT),
    () => limiter.checkAt(CLIENT, 0),
    () => limiter.peek(CLIENT),
    () => limiter.peekAt(CLIENT, 0),
    () => limiter.reset(CLIENT),
    () => limiter.remove(CLIENT),
    () => limiter.size,
    () => limiter.stats(),
  ];
  for (const call of calls) {
    throwsNode(call, Error, 'ERR_USE_AFTER_CLOSE', /this limiter is closed/);
  }
});

test('Symbol.dispose closes, for `using`', () => {
  const limiter = new Limiter({ windows: [{ limit: 1, durationMs: 1_000 }] });
  limiter[Symbol.dispose]();
  assert.equal(limiter.closed, true);
});
