'use strict';
// The rate limiter.

const { native, out } = require('./native');
const { Handle, live } = require('./handle');
const { limiterConfig } = require('./config');
const { micros, millis } = require('./units');
const { SluicegateError, created, resultError, succeed } = require('./errors');

/**
 * What the limiter decided for one request, and what a client needs to behave well. The numbers
 * describe the binding window: the one with the least remaining (ties go to the longer window);
 * an admitted request is already counted in them.
 *
 * @typedef {object} Decision
 * @property {boolean} allowed whether the request was admitted (and, for a check, recorded)
 * @property {number} limit the binding window's limit
 * @property {number} remaining units still available in the binding window, after this request
 *   if admitted
 * @property {number} resetAfterMs milliseconds until the binding window's `remaining` next grows;
 *   0 if it is empty
 * @property {number} retryAfterMs for a rejection, the exact wait after which the same request
 *   is admitted if nothing else arrives; 0 when admitted
 * @property {number} window the binding window's index in the configuration's `windows`
 */

/** sg_result's number for SG_WRONG_TIME_BASE. */
const WRONG_TIME_BASE = 11;

const NEEDS_CALLER_TIME = "this limiter takes the caller's time (timeBase: 'caller'): call checkAt or peekAt";
const NEEDS_LIBRARY_TIME = "this limiter reads the library's clock (timeBase: 'library'): call check or peek";

/**
 * The decision a limiter call answered with `result`, or throws its error. A wrong time base is
 * explained in this API's terms: `misuse` says which calls the limiter takes.
 *
 * @param {number} result
 * @param {string} misuse
 * @returns {Decision}
 */
function decided(result, misuse) {
  if (result === 0) return decision();
  throw result === WRONG_TIME_BASE ? new SluicegateError(result, misuse) : resultError(result);
}

/** The decision the last limiter call wrote to `out`. @returns {Decision} */
function decision() {
  return {
    allowed: out[0] === 1,
    limit: out[2],
    remaining: out[3],
    resetAfterMs: millis(out[4]),
    retryAfterMs: millis(out[5]),
    window: out[1],
  };
}

/**
 * A limiter's counters and sizes.
 *
 * @typedef {object} LimiterStats
 * @property {number} keys keys tracked now
 * @property {number} allowed checks admitted
 * @property {number} rejected checks rejected
 * @property {number} evictions live keys evicted because the limiter was full
 * @property {number} reclaimed idle keys (nothing left in any window) freed
 * @property {number} refusedKeys new keys refused because the limiter was full
 * @property {number} bytes bytes of memory the limiter's tables, keys and logs hold
 */

/**
 * An exact sliding-window-log rate limiter over keys: each key may use at most `limit` cost
 * units in any span of each window's length. A key is a string (its UTF-8 bytes) or a Buffer or
 * Uint8Array (its bytes), so `'a'` and `Buffer.from('a')` are one key.
 *
 * Calls are synchronous and take well under a microsecond. The handle belongs to the thread
 * that made it; each worker thread makes its own (see the README on threads).
 *
 * @example
 * const { Limiter } = require('sluicegate');
 * // At most 2 requests per client in any 60 seconds, at times the caller gives.
 * const limiter = new Limiter({ windows: [{ limit: 2, durationMs: 60_000 }], timeBase: 'caller' });
 * limiter.checkAt('203.0.113.7', 0);             // { allowed: true, remaining: 1, ... }
 * limiter.checkAt('203.0.113.7', 1);             // { allowed: true, remaining: 0, ... }
 * const third = limiter.checkAt('203.0.113.7', 2);
 * console.log(third.allowed, third.retryAfterMs); // => false 59998
 * limiter.close();
 */
class Limiter extends Handle {
  /**
   * @param {import('./config').LimiterConfig} config
   * @throws {SluicegateError} `SG_INVALID_CONFIG` with the library's reason; a TypeError or
   *   RangeError for a setting of the wrong type
   */
  constructor(config) {
    const handle = created(native.limiterNew(limiterConfig(config)));
    super('limiter', 'limiters', handle, () => native.limiterFree(handle));
  }

  /**
   * Checks one request of `cost` units for `key` now, by the library's clock, and records it
   * if admitted. A rejection is `allowed: false`, not an error.
   *
   * @param {string | Uint8Array} key
   * @param {number} [cost] units this request uses (at least 1)
   * @returns {Decision}
   * @throws {SluicegateError} `SG_ZERO_COST`, `SG_COST_EXCEEDS_LIMIT` (no wait admits it),
   *   `SG_KEY_TOO_LONG`, `SG_KEYS_EXHAUSTED`, or `SG_WRONG_TIME_BASE` on a limiter built with
   *   `timeBase: 'caller'`
   */
  check(key, cost = 1) {
    return decided(native.limiterCheck(this[live](), key, cost), NEEDS_CALLER_TIME);
  }

  /**
   * `check` at the caller's time `nowMs`, in milliseconds of the caller's own monotonic clock
   * (`performance.now()` will do), for a limiter built with `timeBase: 'caller'`. Every call on
   * one limiter must use the same clock; a time earlier than one already seen counts as that
   * time.
   *
   * @param {string | Uint8Array} key
   * @param {number} nowMs
   * @param {number} [cost]
   * @returns {Decision}
   * @throws {SluicegateError} as `check`, and `SG_WRONG_TIME_BASE` on a limiter built with
   *   `timeBase: 'library'`
   */
  checkAt(key, nowMs, cost = 1) {
    const handle = this[live]();
    return decided(native.limiterCheckAt(handle, key, cost, micros('nowMs', nowMs)), NEEDS_LIBRARY_TIME);
  }

  /**
   * What `check` would decide now, recording nothing. An admissible peek reports the numbers
   * the check would report after recording.
   *
   * @param {string | Uint8Array} key
   * @param {number} [cost]
   * @returns {Decision}
   * @throws {SluicegateError} as `check`
   */
  peek(key, cost = 1) {
    return decided(native.limiterPeek(this[live](), key, cost), NEEDS_CALLER_TIME);
  }

  /**
   * `peek` at the caller's time; see `checkAt`.
   *
   * @param {string | Uint8Array} key
   * @param {number} nowMs
   * @param {number} [cost]
   * @returns {Decision}
   * @throws {SluicegateError} as `checkAt`
   */
  peekAt(key, nowMs, cost = 1) {
    const handle = this[live]();
    return decided(native.limiterPeekAt(handle, key, cost, micros('nowMs', nowMs)), NEEDS_LIBRARY_TIME);
  }

  /**
   * Forgets what `key` has used, as if it had never been seen.
   *
   * @param {string | Uint8Array} key
   * @returns {boolean} whether the key was tracked
   */
  reset(key) {
    succeed(native.limiterReset(this[live](), key));
    return out[0] === 1;
  }

  /**
   * Stops tracking `key` and frees its memory.
   *
   * @param {string | Uint8Array} key
   * @returns {boolean} whether the key was tracked
   */
  remove(key) {
    succeed(native.limiterRemove(this[live](), key));
    return out[0] === 1;
  }

  /** How many keys the limiter tracks. @type {number} */
  get size() {
    succeed(native.limiterLen(this[live]()));
    return out[0];
  }

  /** The limiter's counters and sizes. @returns {LimiterStats} */
  stats() {
    succeed(native.limiterStats(this[live]()));
    return {
      keys: out[0],
      allowed: out[1],
      rejected: out[2],
      evictions: out[3],
      reclaimed: out[4],
      refusedKeys: out[5],
      bytes: out[6],
    };
  }
}

module.exports = { Limiter };
