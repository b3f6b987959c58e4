'use strict';
// The registry of breakers by key against the real library.

const test = require('node:test');
const assert = require('node:assert/strict');

const { Breakers, Permit, SluicegateError, openHandles } = require('..');

/** A small registry: three failures trip a key, one trips "payments"; two keys at most. */
function smallRegistry(overrides = { payments: { consecutiveFailures: 1 } }) {
  const seen = [];
  const registry = new Breakers(
    { breaker: { consecutiveFailures: 3 }, overrides, shards: 1, maxKeys: 2, maxKeyLength: 16 },
    { onTransition: (t) => seen.push(t) },
  );
  return { registry, seen };
}

function permit(registry, key) {
  const admission = registry.acquire(key);
  assert.ok(admission instanceof Permit, `admitted, not ${JSON.stringify(admission)}`);
  return admission;
}

test('each key has its own breaker, by the shared settings or its override', () => {
  const { registry, seen } = smallRegistry();
  permit(registry, 'payments').record('failure', 1);
  assert.equal(registry.state('payments'), 'open');
  assert.equal(registry.acquire('payments').reason, 'open');
  permit(registry, 'search').record('failure', 1);
  assert.equal(registry.state('search'), 'closed', 'the shared settings need three failures');

  assert.equal(seen.length, 1);
  assert.equal(seen[0].key, 'payments');
  assert.deepEqual(seen[0].keyBytes, Buffer.from('payments'));
  assert.deepEqual([seen[0].from, seen[0].to, seen[0].cause], ['closed', 'open', 'consecutive-failures']);
  assert.deepEqual(registry.counters('payments'), {
    permitted: 1,
    rejected: 1,
    successes: 0,
    failures: 1,
    ignored: 0,
    slow: 0,
    stale: 0,
    trialTimeouts: 0,
  });
  registry.close();
});

test('overrides may be a Map with byte keys', () => {
  const key = Buffer.from([0xff, 0x00, 0x01]);
  const { registry, seen } = smallRegistry(new Map([[key, { consecutiveFailures: 1 }]]));
  permit(registry, new Uint8Array(key)).record('failure', 1);
  assert.equal(registry.state(key), 'open');
  assert.deepEqual(seen[0].keyBytes, key);
  assert.equal(seen[0].key, key.toString('utf8'));
  registry.close();
});

test('unknown keys read as closed with nothing counted, and reading makes nothing', () => {
  const { registry } = smallRegistry();
  assert.equal(registry.state('users'), 'closed');
  assert.equal(registry.counters('users').permitted, 0);
  assert.equal(registry.reset('users'), false);
  assert.equal(registry.remove('users'), false);
  assert.equal(registry.size, 0);
  registry.close();
});

test('a full registry refuses new keys; too long a key is refused', () => {
  const { registry } = smallRegistry();
  permit(registry, 'payments').release();
  permit(registry, 'search').release();
  for (const call of [
    () => registry.acquire('users'),
    () => registry.forceOpen('users'),
    () => registry.disable('users'),
  ]) {
    assert.throws(call, (err) => err instanceof SluicegateError && err.code === 'SG_KEYS_EXHAUSTED');
  }
  for (const call of [
    () => registry.acquire('a-very-long-host-name'),
    () => registry.forceOpen('a-very-long-host-name'),
    () => registry.disable('a-very-long-host-name'),
  ]) {
    assert.throws(call, (err) => err instanceof SluicegateError && err.code === 'SG_KEY_TOO_LONG');
  }
  assert.equal(registry.stats().refused, 3);
  assert.throws(() => registry.acquire(7), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  registry.close();
});

test('operator switches by key, and removal frees the place', () => {
  const { registry, seen } = smallRegistry();
  assert.equal(registry.forceOpen('search'), true, 'made on demand');
  assert.equal(registry.forceOpen('search'), false);
  const rejection = registry.acquire('search');
  assert.deepEqual([rejection.reason, rejection.retryAfterMs], ['forced-open', Infinity]);
  assert.equal(registry.disable('search'), true);
  assert.equal(registry.state('search'), 'disabled');
  assert.equal(registry.reset('search'), true);
  assert.equal(seen.at(-1).cause, 'reset');
  assert.equal(registry.size, 1);

  const outstanding = permit(registry, 'search');
  assert.equal(registry.remove('search'), true);
  assert.equal(registry.size, 0);
  assert.equal(outstanding.record('success', 1), true, 'records into the forgotten breaker');

  const stats = registry.stats();
  assert.equal(stats.keys, 0);
  assert.ok(stats.bytes > 0);
  registry.close();
});

test('permits outlive the registry, and so does its listener', () => {
  const { registry, seen } = smallRegistry();
  const p = permit(registry, 'payments');
  registry.close();
  assert.throws(() => registry.size, { code: 'ERR_USE_AFTER_CLOSE', message: /this registry is closed/ });
  p.record('failure', 1);
  assert.deepEqual(
    seen.map((t) => [t.key, t.to]),
    [['payments', 'open']],
  );
});

test('a listener may close its own registry: the call delivering the transition finishes first', () => {
  const before = openHandles().registries;
  const seen = [];
  const registry = new Breakers(
    { breaker: { consecutiveFailures: 1 } },
    {
      onTransition: (t) => {
        seen.push(`${t.key}:${t.to}`);
        registry.close();
      },
    },
  );
  const p = permit(registry, 'search');
  assert.equal(registry.forceOpen('payments'), true);
  assert.equal(registry.closed, true);
  assert.equal(openHandles().registries, before);
  p.record('failure', 1);
  assert.deepEqual(seen, ['payments:forced-open', 'search:open']);
});

test('a bad override is named, with its key', () => {
  assert.throws(
    () => new Breakers({ breaker: { consecutiveFailures: 1 }, overrides: { payments: {} } }),
    (err) => {
      assert.equal(err.code, 'SG_INVALID_CONFIG');
      assert.match(err.message, /^override 0 \(key "payments"\): a breaker needs/);
      return true;
    },
  );
  assert.throws(() => new Breakers({ breaker: {} }), {
    code: 'SG_INVALID_CONFIG',
    message: /a breaker needs at least one trip policy/,
  });
});

test('settings of the wrong type, or unknown, are refused by name', () => {
  const refused = (config, expected) => assert.throws(() => new Breakers(config), expected);
  refused({}, { name: 'TypeError', message: /config\.breaker must be an object/ });
  refused(
    { breaker: { consecutiveFailures: 1 }, idleAfter: 5 },
    { code: 'ERR_INVALID_ARG_VALUE', message: /config\.idleAfter is not a setting/ },
  );
  refused(
    { breaker: { consecutiveFailures: 1, openFor: 5 } },
    { message: /config\.breaker\.openFor is not a setting/ },
  );
  refused(
    { breaker: { consecutiveFailures: 1 }, overrides: [] },
    { message: /config\.overrides must be an object/ },
  );
  refused(
    { breaker: { consecutiveFailures: 1 }, overrides: new Map([[1, {}]]) },
    { message: /a key of config\.overrides/ },
  );
  refused(
    { breaker: { consecutiveFailures: 1 }, overrides: { a: { lanes: -1 } } },
    { name: 'RangeError', message: /config\.overrides\["a"\]\.lanes/ },
  );
  refused(
    { breaker: { consecutiveFailures: 1 }, idleAfterMs: -5 },
    { name: 'RangeError', message: /idleAfterMs/ },
  );
});

test('a closed registry refuses every call; closing twice is harmless', () => {
  const { registry } = smallRegistry();
  registry.close();
  registry[Symbol.dispose]();
  for (const call of [
    () => registry.acquire('a'),
    () => registry.state('a'),
    () => registry.counters('a'),
    () => registry.forceOpen('a'),
    () => registry.disable('a'),
    () => registry.reset('a'),
    () => registry.remove('a'),
    () => registry.size,
    () => registry.stats(),
  ]) {
    assert.throws(call, { code: 'ERR_USE_AFTER_CLOSE' });
  }
});
