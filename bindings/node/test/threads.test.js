'use strict';
// Worker threads: each loads the addon, opens the same library, and uses its own handles while
// the main thread uses its own, at the same time, without one thread's answers reaching another.

const test = require('node:test');
const assert = require('node:assert/strict');
const { Worker } = require('node:worker_threads');
const path = require('node:path');

const { Limiter, Breakers } = require('..');

/** Checks `limit` times at one instant, then once more; true if every answer was exact. */
function exhaust(Limiter, limit) {
  const limiter = new Limiter({ windows: [{ limit, durationMs: 60_000 }], timeBase: 'caller' });
  let exact = true;
  for (let i = 0; i < limit; i++) {
    const d = limiter.checkAt('shared-name', 0);
    exact &&= d.allowed && d.remaining === limit - 1 - i;
  }
  exact &&= !limiter.checkAt('shared-name', 0).allowed;
  limiter.close();
  return exact;
}

test('workers and the main thread each use their own limiter at once', async () => {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Limiter } = require(workerData.package);
    const exhaust = ${exhaust.toString()};
    parentPort.postMessage(exhaust(Limiter, workerData.limit));`;
  const limits = [20_000, 30_000];
  const workers = limits.map(
    (limit) =>
      new Promise((resolve, reject) => {
        const worker = new Worker(source, {
          eval: true,
          workerData: { package: path.join(__dirname, '..'), limit },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  assert.equal(exhaust(Limiter, 25_000), true, 'the main thread');
  assert.deepEqual(await Promise.all(workers), [true, true], 'the workers');
});

test('a registry listener in a worker hears its own transitions', async () => {
  const source = `
    const { parentPort } = require('node:worker_threads');
    const { Breakers } = require(${JSON.stringify(path.join(__dirname, '..'))});
    const heard = [];
    const registry = new Breakers({ breaker: { consecutiveFailures: 1 } }, {
      onTransition: (t) => heard.push(t.key + ':' + t.to),
    });
    registry.acquire('worker-host').record('failure', 1);
    registry.close();
    parentPort.postMessage(heard);`;
  const heardInWorker = new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: true });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const heard = [];
  const registry = new Breakers(
    { breaker: { consecutiveFailures: 1 } },
    {
      onTransition: (t) => heard.push(`${t.key}:${t.to}`),
    },
  );
  registry.acquire('main-host').record('failure', 1);
  registry.close();
  assert.deepEqual(await heardInWorker, ['worker-host:open']);
  assert.deepEqual(heard, ['main-host:open']);
});
