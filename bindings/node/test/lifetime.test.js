'use strict';
// Release by the garbage collector: handles dropped without close() are freed, a dropped permit
// counts as ignored, and a listener lives exactly as long as the library may call it.
// Needs `node --expose-gc` (npm test passes it).

const test = require('node:test');
const assert = require('node:assert/strict');

const { Limiter, Breaker, Breakers, openHandles } = require('..');

/** Collects garbage and lets finalizers run until `done()` holds; fails after many rounds. */
async function collectUntil(done, what) {
  assert.equal(typeof global.gc, 'function', 'run with --expose-gc');
  for (let round = 0; round < 50; round++) {
    if (done()) return;
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`not released after 50 collections: ${what}`);
}

/** Observes whether `value` has been collected. */
function watchCollection(value) {
  const state = { collected: false };
  const registry = new FinalizationRegistry(() => {
    state.collected = true;
  });
  registry.register(value, undefined);
  return { registry, isCollected: () => state.collected };
}

test('a limiter dropped without close() is released', async () => {
  const before = openHandles().limiters;
  (() => {
    const limiter = new Limiter({ windows: [{ limit: 1, durationMs: 1_000 }] });
    limiter.check('a');
  })();
  assert.equal(openHandles().limiters, before + 1);
  await collectUntil(() => openHandles().limiters === before, 'limiter');
});

test('close() releases at once, and the collector does not release again', async () => {
  const before = openHandles().limiters;
  const limiter = new Limiter({ windows: [{ limit: 1, durationMs: 1_000 }] });
  limiter.close();
  assert.equal(openHandles().limiters, before);
  global.gc();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(openHandles().limiters, before);
});

test('a dropped permit is released as ignored, freeing its half-open slot', async () => {
  const breaker = new Breaker({ consecutiveFailures: 1, openForMs: 1 });
  breaker.acquire().record('failure', 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const before = openHandles().permits;
  (() => {
    assert.equal(breaker.acquire().admitted, true, 'the half-open trial');
  })();
  assert.equal(breaker.acquire().reason, 'half-open-full');
  assert.equal(openHandles().permits, before + 1);
  await collectUntil(() => breaker.counters().ignored === 1, 'permit');
  assert.equal(openHandles().permits, before);
  assert.equal(breaker.acquire().admitted, true, 'the slot is free again');
  breaker.close();
});

test('a breaker dropped while a permit is out keeps its listener for that permit', async () => {
  const before = openHandles().breakers;
  const seen = [];
  const outstanding = (() => {
    const breaker = new Breaker({ consecutiveFailures: 1 }, { onTransition: (t) => seen.push(t.to) });
    return breaker.acquire();
  })();
  await collectUntil(() => openHandles().breakers === before, 'breaker');
  assert.equal(outstanding.record('failure', 1), true);
  assert.deepEqual(seen, ['open']);
});

test('a listener is let go once its breaker and every permit have ended', async () => {
  let listener = () => {};
  const watch = watchCollection(listener);
  (() => {
    const breaker = new Breaker({ consecutiveFailures: 1 }, { onTransition: listener });
    breaker.acquire(); // dropped unrecorded
  })();
  listener = null;
  await collectUntil(watch.isCollected, 'listener of a dropped breaker');
});

test("a registry's listener is let go after close() and its last permit", async () => {
  let listener = () => {};
  const watch = watchCollection(listener);
  let permit;
  (() => {
    const registry = new Breakers({ breaker: { consecutiveFailures: 1 } }, { onTransition: listener });
    permit = registry.acquire('a');
    registry.close();
  })();
  listener = null;
  global.gc();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(watch.isCollected(), false, 'kept for the permit still out');
  permit.record('success', 1);
  permit = null;
  await collectUntil(watch.isCollected, 'listener of a closed registry');
});

test('a registry dropped without close() is released', async () => {
  const before = openHandles().registries;
  (() => new Breakers({ breaker: { consecutiveFailures: 1 } }).acquire('a').release())();
  await collectUntil(() => openHandles().registries === before, 'registry');
});
