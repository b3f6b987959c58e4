'use strict';
// Breaker states and transitions by name, and the listener that hands transitions to a
// JavaScript function.

const { native } = require('./native');
const { millis } = require('./units');
const { typeError } = require('./errors');

/**
 * Where a breaker stands, by sg_state number.
 *
 * - `'closed'`: calls pass; outcomes are measured against the trip policies.
 * - `'open'`: calls are rejected until the open time has passed.
 * - `'half-open'`: a bounded number of trial calls pass; their outcomes decide.
 * - `'forced-open'`: held open by an operator until reset or disabled.
 * - `'disabled'`: switched off by an operator; every call passes and nothing trips.
 *
 * @typedef {'closed' | 'open' | 'half-open' | 'forced-open' | 'disabled'} BreakerState
 */
/** @type {readonly BreakerState[]} */
const STATES = Object.freeze(['closed', 'open', 'half-open', 'forced-open', 'disabled']);

/**
 * Why a breaker changed state, by sg_cause number (see sluicegate.h for each).
 *
 * @typedef {'consecutive-failures' | 'failure-rate' | 'slow-call-rate' | 'open-elapsed'
 *   | 'trials-succeeded' | 'trials-failed' | 'trial-timeout' | 'forced' | 'disabled'
 *   | 'reset'} TransitionCause
 */
/** @type {readonly TransitionCause[]} */
const CAUSES = Object.freeze([
  'consecutive-failures',
  'failure-rate',
  'slow-call-rate',
  'open-elapsed',
  'trials-succeeded',
  'trials-failed',
  'trial-timeout',
  'forced',
  'disabled',
  'reset',
]);

/**
 * One change of a breaker's state.
 *
 * @typedef {object} Transition
 * @property {BreakerState} from the state left
 * @property {BreakerState} to the state entered
 * @property {TransitionCause} cause why
 * @property {number} atMs when, in milliseconds since the breaker (or registry) was built
 * @property {number} generation the generation entered: one more than the previous transition's
 * @property {string} [key] a registry's transitions only: the breaker's key, as UTF-8 text
 * @property {Buffer} [keyBytes] a registry's transitions only: the key's exact bytes
 */

/**
 * A native listener calling `onTransition` with each Transition, or null when there is none.
 *
 * The library calls it synchronously, on this thread, inside the call that caused the
 * transition, so `onTransition` may call back into the breaker. What it throws cannot unwind
 * through the library: it is rethrown on the next tick, as an uncaught exception, like an
 * error thrown by any other callback Node calls.
 *
 * @param {((transition: Transition) => void) | undefined | null} onTransition
 * @param {boolean} keyed whether transitions come from a registry, with keys
 * @returns {object | null} the native listener, for listenerFree
 */
function makeListener(onTransition, keyed) {
  if (onTransition === undefined || onTransition === null) return null;
  if (typeof onTransition !== 'function') {
    throw typeError('onTransition', 'a function', onTransition);
  }
  /**
   * Called by the addon with sg_transition's fields, and the key for a registry.
   *
   * @param {number} from
   * @param {number} to
   * @param {number} cause
   * @param {number} atUs
   * @param {number} generation
   * @param {Buffer} [keyBytes]
   */
  const deliver = (from, to, cause, atUs, generation, keyBytes) => {
    /** @type {Transition} */
    const transition = {
      from: STATES[from],
      to: STATES[to],
      cause: CAUSES[cause],
      atMs: millis(atUs),
      generation,
    };
    if (keyed && keyBytes !== undefined) {
      transition.key = keyBytes.toString('utf8');
      transition.keyBytes = keyBytes;
    }
    try {
      onTransition(transition);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  };
  return native.listenerNew(deliver);
}

module.exports = { STATES, CAUSES, makeListener };
