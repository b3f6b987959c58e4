'use strict';
// Admissions: the permit a breaker hands out, the rejection it answers with otherwise, and
// what a breaker or registry shares with its permits.

const { performance } = require('node:perf_hooks');

const { native, out } = require('./native');
const { Lifetime } = require('./lifetime');
const { micros, millis } = require('./units');
const { STALE_OUTCOME, closedError, created, resultError, valueError } = require('./errors');

/** Passed by this module to the Permit constructor, which nothing else may call. */
const ISSUE = Symbol('issue');

/**
 * How a call ended, as the caller classifies it. Classify by whose fault it was: an upstream
 * that is down, overloaded or timing out is a `'failure'`; a client's mistake (a 404, a 400) is
 * a `'success'` or `'ignored'`, or one client's bad requests would open the circuit for
 * everyone. `'ignored'` says nothing about the upstream (the client went away).
 *
 * @typedef {'success' | 'failure' | 'ignored'} Outcome
 */
/** sg_outcome's numbers by name. */
const OUTCOMES = new Map([
  ['success', 0],
  ['failure', 1],
  ['ignored', 2],
]);

/**
 * Why a call was rejected, by sg_reject_reason number (0, "not rejected", has no name).
 *
 * @typedef {'open' | 'half-open-full' | 'forced-open'} RejectReason
 */
/** @type {readonly (RejectReason | undefined)[]} */
const REJECT_REASONS = Object.freeze([undefined, 'open', 'half-open-full', 'forced-open']);

/**
 * What a breaker or registry shares with the permits it hands out: its transition listener,
 * which the library may call until the handle is freed and its last permit has ended.
 */
class PermitSource {
  /** @type {object | null} */
  #listener;
  #outstanding = 0;
  #closed = false;

  /** @param {object | null} listener made by makeListener */
  constructor(listener) {
    this.#listener = listener;
  }

  /** Frees the native listener once the library can no longer call it. */
  #releaseIfDone() {
    if (this.#closed && this.#outstanding === 0 && this.#listener !== null) {
      native.listenerFree(this.#listener);
      this.#listener = null;
    }
  }

  permitIssued() {
    this.#outstanding += 1;
  }

  permitEnded() {
    this.#outstanding -= 1;
    this.#releaseIfDone();
  }

  /** The handle was freed; permits still out keep the listener. */
  handleFreed() {
    this.#closed = true;
    this.#releaseIfDone();
  }
}

/**
 * Makes a breaker or registry handle by `make`, which uses `source`'s listener; if it fails,
 * the listener is freed before the error is thrown.
 *
 * @param {PermitSource} source
 * @param {() => object | number} make returns the native constructor's answer
 * @returns {object} the handle
 */
function madeWith(source, make) {
  try {
    return created(make());
  } catch (err) {
    source.handleFreed();
    throw err;
  }
}

/**
 * Leave to make one call through a breaker: report how the call went with `record`, or let it
 * go unreported with `release`. Either ends the permit. A permit that is dropped without either
 * is released when it is garbage-collected, counted as ignored, but until then it holds a
 * half-open trial slot: end permits explicitly.
 *
 * A permit keeps its breaker's native state alive, so it may be recorded after the breaker is
 * closed.
 *
 * @example
 * const { Breaker } = require('sluicegate');
 * const breaker = new Breaker({ consecutiveFailures: 5 });
 * const admission = breaker.acquire();
 * if (admission.admitted) {
 *   const upstreamWorked = true; // the call through the breaker goes here
 *   admission.record(upstreamWorked ? 'success' : 'failure');
 * }
 * breaker.close();
 */
class Permit {
  /** @type {object | null} */
  #handle;
  /** @type {PermitSource} */
  #source;
  /** @type {Lifetime} */
  #lifetime;
  #startedAt = performance.now();

  /**
   * @param {symbol} issue proof that this module is the caller
   * @param {object} handle the native permit
   * @param {PermitSource} source
   * @internal built by Breaker.acquire and Breakers.acquire only
   */
  constructor(issue, handle, source) {
    if (issue !== ISSUE) throw new TypeError('a Permit comes from acquire(), not from new Permit()');
    this.#handle = handle;
    this.#source = source;
    source.permitIssued();
    this.#lifetime = new Lifetime(this, 'permits', () => {
      native.permitFree(handle);
      source.permitEnded();
    });
  }

  /** Always true: this admission holds a permit. @type {true} */
  get admitted() {
    return true;
  }

  /** Milliseconds since the permit was handed out. @type {number} */
  get elapsedMs() {
    return performance.now() - this.#startedAt;
  }

  /** Whether the permit is still to be recorded or released. @type {boolean} */
  get pending() {
    return this.#handle !== null;
  }

  /**
   * Reports how the call went and how long it took (for the slow-call policy), and ends the
   * permit.
   *
   * @param {Outcome} outcome
   * @param {number} [elapsedMs] how long the call took; by default the time since `acquire`
   * @returns {boolean} true if the outcome counted; false if it was stale: the breaker changed
   *   state after this permit was admitted (or its half-open trial timed out), so the outcome
   *   changed nothing but the `stale` counter
   * @throws {Error} `ERR_USE_AFTER_CLOSE` if the permit already ended; a TypeError or
   *   RangeError for a bad argument, which leaves the permit pending
   */
  record(outcome, elapsedMs = this.elapsedMs) {
    const code = OUTCOMES.get(outcome);
    if (code === undefined) throw valueError('outcome', '"success", "failure" or "ignored"', outcome);
    const elapsedUs = micros('elapsedMs', elapsedMs);
    const handle = this.#handle;
    if (handle === null || !this.#lifetime.disown()) throw closedError('permit');
    this.#handle = null;
    let result;
    try {
      result = native.permitRecord(handle, code, elapsedUs);
    } finally {
      this.#source.permitEnded();
    }
    if (result === 0) return true;
    if (result === STALE_OUTCOME) return false;
    throw resultError(result);
  }

  /**
   * Ends the permit without reporting an outcome: the call counts as ignored and frees its
   * half-open trial slot. Does nothing if the permit already ended, so it is safe in a
   * `finally` after `record`.
   */
  release() {
    this.#handle = null;
    this.#lifetime.end();
  }

  /** `release()`, for `using` declarations. */
  [Symbol.dispose]() {
    this.release();
  }
}

/**
 * A breaker's refusal to admit a call.
 */
class Rejection {
  /**
   * @param {RejectReason} reason
   * @param {number} retryAfterMs
   * @internal built by Breaker.acquire and Breakers.acquire
   */
  constructor(reason, retryAfterMs) {
    /** Why: `'open'`, `'half-open-full'` or `'forced-open'`. @type {RejectReason} */
    this.reason = reason;
    /**
     * Milliseconds until the reason stops holding by the clock alone (an open circuit's
     * remaining open time; for full half-open slots, the oldest trial's timeout), or Infinity
     * when only an operator can end it (forced open).
     * @type {number}
     */
    this.retryAfterMs = retryAfterMs;
  }

  /** Always false: this admission holds no permit. @type {false} */
  get admitted() {
    return false;
  }
}

/**
 * What native acquire functions returned, as a Permit or a Rejection.
 *
 * @param {object | null | number} answer a permit handle, null (rejected) or a result code
 * @param {PermitSource} source
 * @returns {Permit | Rejection}
 */
function admission(answer, source) {
  if (answer === null) {
    const reason = /** @type {RejectReason} */ (REJECT_REASONS[out[0]]);
    return new Rejection(reason, millis(out[1]));
  }
  if (typeof answer === 'number') throw resultError(answer);
  return new Permit(ISSUE, answer, source);
}

module.exports = { Permit, Rejection, PermitSource, REJECT_REASONS, admission, madeWith };
