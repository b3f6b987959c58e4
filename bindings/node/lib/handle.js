'use strict';
// What Limiter, Breaker and Breakers share: one native handle, released by close() or by the
// garbage collector, and refused once closed.

const { Lifetime } = require('./lifetime');
const { closedError } = require('./errors');

/** The method subclasses call to get the live native handle (not part of the public API). */
const live = Symbol('live');

class Handle {
  /** @type {object | null} */
  #handle;
  /** @type {Lifetime} */
  #lifetime;
  /** @type {string} */
  #what;

  /**
   * @param {string} what the object, for the error after close (e.g. "limiter")
   * @param {'limiters' | 'breakers' | 'registries'} kind for openHandles
   * @param {object} handle the native handle
   * @param {() => void} release frees it; must not reference the object
   */
  constructor(what, kind, handle, release) {
    this.#handle = handle;
    this.#what = what;
    this.#lifetime = new Lifetime(this, kind, release);
  }

  /**
   * The native handle; throws an Error with code `ERR_USE_AFTER_CLOSE` once closed.
   *
   * @returns {object}
   */
  [live]() {
    if (this.#handle === null) throw closedError(this.#what);
    return this.#handle;
  }

  /** Whether `close` was called. @type {boolean} */
  get closed() {
    return this.#handle === null;
  }

  /**
   * Frees the native handle now rather than when the object is garbage-collected. A breaker's
   * or registry's outstanding permits keep its native state (and listener) alive, and may
   * still be recorded. Later calls throw an Error with code `ERR_USE_AFTER_CLOSE`; closing
   * again does nothing.
   */
  close() {
    this.#handle = null;
    this.#lifetime.end();
  }

  /** `close()`, for `using` declarations. */
  [Symbol.dispose]() {
    this.close();
  }
}

module.exports = { Handle, live };
