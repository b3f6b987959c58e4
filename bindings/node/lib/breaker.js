'use strict';
// A circuit breaker for one upstream.

const { native, out } = require('./native');
const { Handle, during } = require('./handle');
const { breakerConfig } = require('./config');
const { PermitSource, admission, madeWith } = require('./permit');
const { STATES, makeListener } = require('./transitions');
const { succeed, typeError } = require('./errors');

/**
 * What a breaker has counted since it was built. Counters only grow; once no permit is
 * outstanding, `permitted === successes + failures + ignored + stale`.
 *
 * @typedef {object} BreakerCounters
 * @property {number} permitted calls admitted (permits handed out)
 * @property {number} rejected calls rejected
 * @property {number} successes successes recorded in the generation they were admitted in
 * @property {number} failures failures recorded in the generation they were admitted in
 * @property {number} ignored permits recorded as ignored or released unrecorded, in their generation
 * @property {number} slow successes and failures that took at least the slow-call threshold
 * @property {number} stale permits that ended after their generation did, and so counted for
 *   nothing else
 * @property {number} trialTimeouts half-open trials unreported past the trial timeout
 */

/** The counters the last call wrote to `out`. @returns {BreakerCounters} */
function counters() {
  return {
    permitted: out[0],
    rejected: out[1],
    successes: out[2],
    failures: out[3],
    ignored: out[4],
    slow: out[5],
    stale: out[6],
    trialTimeouts: out[7],
  };
}

/**
 * Options for a breaker or a registry that are not settings of the breaker itself.
 *
 * @typedef {object} ListenerOptions
 * @property {(transition: import('./transitions').Transition) => void} [onTransition] called
 *   with every change of state, synchronously, inside the call that caused it (so it may call
 *   back into the breaker); what it throws is rethrown on the next tick as an uncaught
 *   exception. The breaker's native state holds the function until the breaker is closed (or
 *   collected) and its last permit has ended.
 */

/**
 * Reads the options argument of a Breaker or Breakers constructor.
 *
 * @param {unknown} options
 * @returns {ListenerOptions}
 */
function listenerOptions(options) {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw typeError('options', 'an object', options);
  return options;
}

/**
 * A circuit breaker for one upstream. Ask it before each call (`acquire`); it admits calls
 * while the upstream is healthy, and rejects them for a while once the outcomes you record
 * reach a trip policy, then lets a few trial calls through to decide whether to close again.
 *
 * Calls are synchronous. The handle belongs to the thread that made it.
 *
 * @example
 * const { Breaker } = require('sluicegate');
 * const breaker = new Breaker(
 *   { consecutiveFailures: 2, openForMs: 5_000 },
 *   { onTransition: (t) => console.log(`${t.from} -> ${t.to} (${t.cause})`) },
 * );
 * for (let i = 0; i < 3; i++) {
 *   const admission = breaker.acquire();
 *   if (!admission.admitted) {
 *     console.log(`rejected: ${admission.reason}, for ${admission.retryAfterMs <= 5_000 ? 'at most' : 'over'} 5 s`);
 *     continue;
 *   }
 *   admission.record('failure', 120); // the upstream failed after 120 ms
 * }
 * // => closed -> open (consecutive-failures)
 * // => rejected: open, for at most 5 s
 * breaker.close();
 */
class Breaker extends Handle {
  /** @type {PermitSource} */
  #source;

  /**
   * @param {import('./config').BreakerConfig} config
   * @param {ListenerOptions} [options]
   * @throws {SluicegateError} `SG_INVALID_CONFIG` with the library's reason; a TypeError or
   *   RangeError for a setting of the wrong type
   */
  constructor(config, options) {
    const settings = breakerConfig(config);
    const listener = makeListener(listenerOptions(options).onTransition, false);
    const source = new PermitSource(listener);
    const handle = madeWith(source, () => native.breakerNew(settings, listener));
    super('breaker', 'breakers', handle, () => {
      native.breakerFree(handle);
      source.handleFreed();
    });
    this.#source = source;
  }

  /**
   * Asks to make one call. Closed and disabled breakers admit; an open one rejects until its
   * time is up, then turns half-open and admits this call as the first trial; a half-open one
   * admits while a trial slot is free; a forced-open one rejects.
   *
   * @returns {import('./permit').Permit | import('./permit').Rejection} a Permit
   *   (`admitted: true`), which must be recorded or released, or a Rejection
   *   (`admitted: false`) with its `reason` and `retryAfterMs`
   */
  acquire() {
    // The permit is issued inside the call, so a listener closing the handle cannot free its
    // own listener while the permit may still need it.
    return this[during]((handle) => admission(native.breakerAcquire(handle), this.#source));
  }

  /**
   * Where the breaker stands. It only reports: an open breaker whose time is up says `'open'`
   * until the next `acquire`.
   *
   * @type {import('./transitions').BreakerState}
   */
  get state() {
    succeed(this[during]((handle) => native.breakerState(handle)));
    return STATES[out[0]];
  }

  /** What the breaker has counted since it was built. @returns {BreakerCounters} */
  counters() {
    succeed(this[during]((handle) => native.breakerCounters(handle)));
    return counters();
  }

  /**
   * Holds the breaker open, rejecting every call, until `reset` or `disable`.
   *
   * @returns {boolean} false if it was already forced open
   */
  forceOpen() {
    succeed(this[during]((handle) => native.breakerForceOpen(handle)));
    return out[0] === 1;
  }

  /**
   * Admits every call and keeps counting, but never trips, until `reset` or `forceOpen`.
   *
   * @returns {boolean} false if it was already disabled
   */
  disable() {
    succeed(this[during]((handle) => native.breakerDisable(handle)));
    return out[0] === 1;
  }

  /**
   * Closes the breaker afresh from any state: a new generation (outstanding permits' outcomes
   * become stale), empty windows, the backoff back at its base. Counters keep their history.
   */
  reset() {
    succeed(this[during]((handle) => native.breakerReset(handle)));
  }
}

module.exports = { Breaker, counters, listenerOptions };
