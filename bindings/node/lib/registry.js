'use strict';
// A registry of circuit breakers by key.

const { native, out } = require('./native');
const { Handle, during } = require('./handle');
const { registryConfig } = require('./config');
const { PermitSource, admission, madeWith } = require('./permit');
const { STATES, makeListener } = require('./transitions');
const { counters, listenerOptions } = require('./breaker');
const { succeed } = require('./errors');

/**
 * A registry's counters and sizes.
 *
 * @typedef {object} BreakersStats
 * @property {number} keys breakers held now
 * @property {number} reclaimed idle breakers forgotten
 * @property {number} refused new keys refused because the registry was full
 * @property {number} bytes bytes held by the registry's tables, keys and breakers
 */

/**
 * Circuit breakers by key (an upstream host, a route), made on a key's first call with the
 * shared settings or the key's override. Idle closed breakers are forgotten after
 * `idleAfterMs`, so the registry stays bounded. Keys are strings (their UTF-8 bytes) or
 * Buffers / Uint8Arrays (their bytes).
 *
 * Calls are synchronous. The handle belongs to the thread that made it.
 *
 * @example
 * const { Breakers } = require('sluicegate');
 * const upstreams = new Breakers({
 *   breaker: { consecutiveFailures: 5 },
 *   overrides: { 'payments.internal': { consecutiveFailures: 1 } },
 * });
 * const admission = upstreams.acquire('payments.internal');
 * if (admission.admitted) admission.record('failure', 30);
 * console.log(upstreams.state('payments.internal')); // => open
 * console.log(upstreams.state('search.internal')); // => closed
 * upstreams.close();
 */
class Breakers extends Handle {
  /** @type {PermitSource} */
  #source;

  /**
   * @param {import('./config').BreakersConfig} config
   * @param {import('./breaker').ListenerOptions} [options] `onTransition` receives each
   *   transition with the breaker's `key` (UTF-8 text) and `keyBytes`
   * @throws {SluicegateError} `SG_INVALID_CONFIG` with the library's reason (an override's
   *   reason names its key); a TypeError or RangeError for a setting of the wrong type
   */
  constructor(config, options) {
    const { native: settings, overrideKeys, overrideConfigs } = registryConfig(config);
    const listener = makeListener(listenerOptions(options).onTransition, true);
    const source = new PermitSource(listener);
    const handle = madeWith(source, () =>
      native.breakersNew(settings, overrideKeys, overrideConfigs, listener),
    );
    super('registry', 'registries', handle, () => {
      native.breakersFree(handle);
      source.handleFreed();
    });
    this.#source = source;
  }

  /**
   * Asks `key`'s breaker (made if new) to make one call; see `Breaker.acquire`.
   *
   * @param {string | Uint8Array} key
   * @returns {import('./permit').Permit | import('./permit').Rejection}
   * @throws {SluicegateError} `SG_KEY_TOO_LONG`, or `SG_KEYS_EXHAUSTED` when the key is new and
   *   the registry is full of busy breakers
   */
  acquire(key) {
    // The permit is issued inside the call, so a listener closing the handle cannot free its
    // own listener while the permit may still need it.
    return this[during]((handle) => admission(native.breakersAcquire(handle, key), this.#source));
  }

  /**
   * Where `key`'s breaker stands; a key the registry does not hold is `'closed'`, the state its
   * next call would find. Makes nothing.
   *
   * @param {string | Uint8Array} key
   * @returns {import('./transitions').BreakerState}
   */
  state(key) {
    succeed(this[during]((handle) => native.breakersState(handle, key)));
    return STATES[out[0]];
  }

  /**
   * What `key`'s breaker has counted; a key the registry does not hold has counted nothing.
   * Makes nothing.
   *
   * @param {string | Uint8Array} key
   * @returns {import('./breaker').BreakerCounters}
   */
  counters(key) {
    succeed(this[during]((handle) => native.breakersCounters(handle, key)));
    return counters();
  }

  /**
   * `Breaker.forceOpen` on `key`'s breaker, made if new (so an operator can hold a host off
   * before its first call). Forced-open breakers are never forgotten as idle.
   *
   * @param {string | Uint8Array} key
   * @returns {boolean} false if it was already forced open
   * @throws {SluicegateError} `SG_KEY_TOO_LONG` or `SG_KEYS_EXHAUSTED`
   */
  forceOpen(key) {
    succeed(this[during]((handle) => native.breakersForceOpen(handle, key)));
    return out[0] === 1;
  }

  /**
   * `Breaker.disable` on `key`'s breaker, made if new. Disabled breakers are never forgotten
   * as idle.
   *
   * @param {string | Uint8Array} key
   * @returns {boolean} false if it was already disabled
   * @throws {SluicegateError} `SG_KEY_TOO_LONG` or `SG_KEYS_EXHAUSTED`
   */
  disable(key) {
    succeed(this[during]((handle) => native.breakersDisable(handle, key)));
    return out[0] === 1;
  }

  /**
   * `Breaker.reset` on `key`'s breaker, if the registry holds one. Makes nothing.
   *
   * @param {string | Uint8Array} key
   * @returns {boolean} whether the registry held the key
   */
  reset(key) {
    succeed(this[during]((handle) => native.breakersReset(handle, key)));
    return out[0] === 1;
  }

  /**
   * Forgets `key`'s breaker. Permits outstanding still record into the forgotten breaker; the
   * key's next call starts a new one.
   *
   * @param {string | Uint8Array} key
   * @returns {boolean} whether the registry held the key
   */
  remove(key) {
    succeed(this[during]((handle) => native.breakersRemove(handle, key)));
    return out[0] === 1;
  }

  /** How many breakers the registry holds. @type {number} */
  get size() {
    succeed(this[during]((handle) => native.breakersLen(handle)));
    return out[0];
  }

  /** The registry's counters and sizes. @returns {BreakersStats} */
  stats() {
    succeed(this[during]((handle) => native.breakersStats(handle)));
    return { keys: out[0], reclaimed: out[1], refused: out[2], bytes: out[3] };
  }
}

module.exports = { Breakers };
