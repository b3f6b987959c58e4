'use strict';
// The breaker against the real library: its states, its listener, permits and stale outcomes,
// the operator switches, and every error.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const { Breaker, Permit, Rejection, SluicegateError, openHandles } = require('..');

/** Waits `ms` milliseconds. */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A breaker that opens after `failures` failures in a row, and the transitions it made. */
function trippingBreaker(failures, settings = {}) {
  const seen = [];
  const breaker = new Breaker(
    { consecutiveFailures: failures, seed: 7, ...settings },
    { onTransition: (t) => seen.push(t) },
  );
  return { breaker, seen };
}

/** Acquires a permit, failing the test on a rejection. */
function permit(breaker) {
  const admission = breaker.acquire();
  assert.ok(admission instanceof Permit, `admitted, not ${JSON.stringify(admission)}`);
  return admission;
}

test('closed, open, half-open and closed again, each transition heard', async () => {
  const { breaker, seen } = trippingBreaker(2, { openForMs: 20 });
  assert.equal(breaker.state, 'closed');
  for (let i = 0; i < 2; i++) {
    const p = permit(breaker);
    assert.equal(p.admitted, true);
    assert.equal(p.record('failure', 1.5), true);
  }
  assert.equal(breaker.state, 'open');
  assert.equal(seen.length, 1);
  assert.deepEqual(
    { ...seen[0], atMs: 0 },
    {
      from: 'closed',
      to: 'open',
      cause: 'consecutive-failures',
      atMs: 0,
      generation: 1,
    },
  );
  assert.ok(seen[0].atMs >= 0);

  const rejection = breaker.acquire();
  assert.ok(rejection instanceof Rejection);
  assert.equal(rejection.admitted, false);
  assert.equal(rejection.reason, 'open');
  assert.ok(rejection.retryAfterMs > 0 && rejection.retryAfterMs <= 20, `${rejection.retryAfterMs}`);

  // After the open time, the next call is the half-open trial; a second finds no slot.
  await sleep(30);
  const trial = permit(breaker);
  assert.equal(breaker.state, 'half-open');
  assert.deepEqual([seen[1].to, seen[1].cause], ['half-open', 'open-elapsed']);
  const full = breaker.acquire();
  assert.equal(full.reason, 'half-open-full');
  assert.ok(full.retryAfterMs > 0);
  assert.equal(trial.record('success', 10), true);
  assert.equal(breaker.state, 'closed');
  assert.deepEqual([seen[2].to, seen[2].cause, seen[2].generation], ['closed', 'trials-succeeded', 3]);
  breaker.close();
});

test('a failed half-open trial opens the circuit again', async () => {
  const { breaker, seen } = trippingBreaker(1, { openForMs: 5 });
  permit(breaker).record('failure', 1);
  await sleep(10);
  permit(breaker).record('failure', 1);
  assert.equal(breaker.state, 'open');
  assert.deepEqual(
    seen.map((t) => t.cause),
    ['consecutive-failures', 'open-elapsed', 'trials-failed'],
  );
  breaker.close();
});

test('an outcome recorded after the breaker changed state is stale', () => {
  const { breaker } = trippingBreaker(1);
  const early = permit(breaker);
  breaker.reset();
  assert.equal(early.record('failure', 1), false, 'stale');
  assert.equal(breaker.state, 'closed', 'a stale failure trips nothing');
  assert.equal(breaker.counters().stale, 1);
  breaker.close();
});

test('the slow-call policy reads the elapsed time', () => {
  const breaker = new Breaker({
    slowCallRatePercent: 50,
    slowCallThresholdMs: 100,
    countWindow: 2,
    minCalls: 2,
  });
  permit(breaker).record('success', 150);
  permit(breaker).record('success', 250);
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.counters().slow, 2);
  breaker.close();
});

test('elapsed time defaults to the time since acquire', async () => {
  const breaker = new Breaker({
    slowCallRatePercent: 100,
    slowCallThresholdMs: 15,
    countWindow: 1,
    minCalls: 1,
  });
  const p = permit(breaker);
  await sleep(25);
  assert.ok(p.elapsedMs >= 20);
  p.record('success');
  assert.equal(breaker.counters().slow, 1);
  breaker.close();
});

test('operator switches: force open, disable, reset', () => {
  const { breaker, seen } = trippingBreaker(1);
  assert.equal(breaker.forceOpen(), true);
  assert.equal(breaker.forceOpen(), false);
  assert.equal(breaker.state, 'forced-open');
  const rejection = breaker.acquire();
  assert.equal(rejection.reason, 'forced-open');
  assert.equal(rejection.retryAfterMs, Infinity, 'only an operator ends it');

  assert.equal(breaker.disable(), true);
  assert.equal(breaker.disable(), false);
  assert.equal(breaker.state, 'disabled');
  permit(breaker).record('failure', 1);
  assert.equal(breaker.state, 'disabled', 'a disabled breaker never trips');

  breaker.reset();
  assert.equal(breaker.state, 'closed');
  assert.deepEqual(
    seen.map((t) => t.cause),
    ['forced', 'disabled', 'reset'],
  );
  breaker.close();
});

test('counters add up once no permit is out', () => {
  const { breaker } = trippingBreaker(3);
  permit(breaker).record('success', 1);
  permit(breaker).record('failure', 1);
  permit(breaker).record('ignored', 1);
  permit(breaker).release();
  const stale = permit(breaker);
  breaker.reset();
  stale.record('success', 1);
  breaker.forceOpen();
  breaker.acquire();
  const c = breaker.counters();
  assert.deepEqual(c, {
    permitted: 5,
    rejected: 1,
    successes: 1,
    failures: 1,
    ignored: 2,
    slow: 0,
    stale: 1,
    trialTimeouts: 0,
  });
  assert.equal(c.permitted, c.successes + c.failures + c.ignored + c.stale);
  breaker.close();
});

test('a permit ends once: record or release, and release after record is harmless', () => {
  const { breaker } = trippingBreaker(1);
  const p = permit(breaker);
  assert.equal(p.pending, true);
  p.record('success', 1);
  assert.equal(p.pending, false);
  assert.throws(() => p.record('success', 1), { code: 'ERR_USE_AFTER_CLOSE', message: /permit/ });
  p.release();
  p[Symbol.dispose]();

  const released = permit(breaker);
  released.release();
  released.release();
  assert.throws(() => released.record('failure', 1), { code: 'ERR_USE_AFTER_CLOSE' });
  assert.equal(breaker.counters().ignored, 1);
  breaker.close();
});

test('permits come only from acquire', () => {
  assert.throws(() => new Permit(), { name: 'TypeError', message: /acquire\(\)/ });
});

test('a bad outcome or elapsed time is refused and leaves the permit pending', () => {
  const { breaker } = trippingBreaker(1);
  const p = permit(breaker);
  for (const outcome of ['SUCCESS', 'ok', 0, undefined, null]) {
    assert.throws(() => p.record(outcome, 1), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  }
  for (const elapsed of [-1, NaN, Infinity]) {
    assert.throws(() => p.record('success', elapsed), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  }
  assert.throws(() => p.record('success', '5'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.equal(p.pending, true);
  assert.equal(p.record('failure', 1), true);
  assert.equal(breaker.state, 'open');
  breaker.close();
});

test('a permit outlives its breaker, and so does the listener', () => {
  const { breaker, seen } = trippingBreaker(1);
  const p = permit(breaker);
  breaker.close();
  assert.throws(() => breaker.acquire(), { code: 'ERR_USE_AFTER_CLOSE', message: /this breaker is closed/ });
  assert.equal(p.record('failure', 1), true);
  assert.deepEqual(
    seen.map((t) => t.to),
    ['open'],
    'the listener heard the trip after close',
  );
});

test('the listener may call back into the breaker', () => {
  let stateSeen;
  const breaker = new Breaker(
    { consecutiveFailures: 1 },
    {
      onTransition: () => {
        stateSeen = breaker.state;
      },
    },
  );
  permit(breaker).record('failure', 1);
  assert.equal(stateSeen, 'open');
  breaker.close();
});

test('a listener may close its own breaker: the call delivering the transition finishes first', async () => {
  const before = openHandles().breakers;
  const seen = [];
  const breaker = new Breaker(
    { consecutiveFailures: 1, openForMs: 5 },
    {
      onTransition: (t) => {
        seen.push(t.to);
        if (t.to === 'half-open') breaker.close();
      },
    },
  );
  permit(breaker).record('failure', 1);
  await sleep(10);
  const trial = breaker.acquire(); // turns half-open, and the listener closes the breaker
  assert.ok(trial instanceof Permit);
  assert.equal(breaker.closed, true);
  assert.equal(openHandles().breakers, before, 'freed once acquire returned');
  assert.throws(() => breaker.acquire(), { code: 'ERR_USE_AFTER_CLOSE' });
  assert.equal(trial.record('success', 1), true);
  assert.deepEqual(seen, ['open', 'half-open', 'closed'], 'the listener outlived the close for the permit');
});

test('a listener may close its breaker from an operator switch', () => {
  const breaker = new Breaker({ consecutiveFailures: 1 }, { onTransition: () => breaker.close() });
  assert.equal(breaker.forceOpen(), true);
  assert.equal(breaker.closed, true);
});

test('what a listener throws does not unwind through the library: it is rethrown on the next tick', () => {
  const script = `
    const { Breaker } = require(${JSON.stringify(path.join(__dirname, '..'))});
    process.on('uncaughtException', (err) => console.log('uncaught:', err.message));
    const breaker = new Breaker({ consecutiveFailures: 1 }, {
      onTransition: () => { throw new Error('listener failed'); },
    });
    const permit = breaker.acquire();
    console.log('recorded:', permit.record('failure', 1));
    console.log('state:', breaker.state);
  `;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: process.env });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, 'recorded: true\nstate: open\nuncaught: listener failed\n');
});

test('configurations the library refuses come with its reason', () => {
  const refused = (config, message) =>
    assert.throws(
      () => new Breaker(config),
      (err) => {
        assert.ok(err instanceof SluicegateError);
        assert.equal(err.code, 'SG_INVALID_CONFIG');
        if (message) assert.match(err.message, message);
        return true;
      },
    );
  refused({}, /^a breaker needs at least one trip policy/);
  refused({ failureRatePercent: 50 });
  refused({ failureRatePercent: 50, countWindow: 10, timeWindowMs: 1_000 });
  refused({ failureRatePercent: 50, timeWindowMs: 1_000, timeWindowBuckets: 3 });
  refused({ failureRatePercent: 150, countWindow: 10 });
  refused({ consecutiveFailures: 1, backoffFactor: 2 }, /backoff cap/);
  refused({ consecutiveFailures: 1, lanes: 3 });
  refused({ consecutiveFailures: 1, slowCallThresholdMs: 100 });
  refused({ consecutiveFailures: 1, failureRatePercent: -5, countWindow: 10 });
  // Every setting at once, accepted.
  new Breaker({
    consecutiveFailures: 3,
    failureRatePercent: 50,
    slowCallRatePercent: 80,
    slowCallThresholdMs: 100,
    timeWindowMs: 1_000,
    timeWindowBuckets: 10,
    minCalls: 5,
    halfOpenPermits: 2,
    openForMs: 1_000,
    backoffFactor: 2,
    backoffMaxMs: 60_000,
    jitter: 0.1,
    halfOpenSuccesses: 4,
    halfOpenFailureRatePercent: 50,
    trialTimeoutMs: 5_000,
    lanes: 2,
    seed: 42,
  }).close();
});

test('settings and options of the wrong type, or unknown, are refused by name', () => {
  const refused = (config, options, expected) => assert.throws(() => new Breaker(config, options), expected);
  refused(null, undefined, { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /config/ });
  refused({ consecutiveFailure: 1 }, undefined, {
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_VALUE',
    message: /config\.consecutiveFailure is not a setting/,
  });
  refused({ consecutiveFailures: 1.5 }, undefined, { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
  refused({ consecutiveFailures: 1, openForMs: -1 }, undefined, { name: 'RangeError', message: /openForMs/ });
  refused({ consecutiveFailures: 1, jitter: NaN }, undefined, { name: 'RangeError', message: /jitter/ });
  refused({ consecutiveFailures: 1, seed: 2 ** 53 }, undefined, { name: 'RangeError', message: /seed/ });
  refused({ consecutiveFailures: 1 }, 'listener', { name: 'TypeError', message: /options/ });
  refused(
    { consecutiveFailures: 1 },
    { onTransition: 'log' },
    { name: 'TypeError', message: /onTransition/ },
  );
});

test('a closed breaker refuses every call; closing twice is harmless', () => {
  const { breaker } = trippingBreaker(1);
  breaker.close();
  breaker[Symbol.dispose]();
  assert.equal(breaker.closed, true);
  for (const call of [
    () => breaker.acquire(),
    () => breaker.state,
    () => breaker.counters(),
    () => breaker.forceOpen(),
    () => breaker.disable(),
    () => breaker.reset(),
  ]) {
    assert.throws(call, { code: 'ERR_USE_AFTER_CLOSE' });
  }
});
