'use strict';
// What Limiter, Breaker and Breakers share: one native handle, released by close() or by the
// garbage collector, and refused once closed.
//
// A breaker's listener runs inside the library call that caused the transition, and may close
// its own breaker there. The handle must outlive that call, so a close() made during a call
// (`during`) takes effect when the outermost one returns.

const { Lifetime } = require('./lifetime');
const { closedError } = require('./errors');

/** The method subclasses call to get the live native handle (not part of the public API). */
const live = Symbol('live');

/** The method subclasses call the library through when a listener may run during the call. */
const during = Symbol('during');

/**
 * The base of Limiter, Breaker and Breakers: their native handle, `close()`, `closed` and
 * `[Symbol.dispose]()`.
 */
class Handle {
  /** @type {object | null} */
  #handle;
  /** @type {Lifetime} */
  #lifetime;
  /** @type {string} */
  #what;
  /** Calls through `during` not yet returned. */
  #calls = 0;

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

  /**
   * Calls `call` with the live native handle, keeping the handle alive until it returns even if
   * `close` is called meanwhile (by a listener).
   *
   * @template T
   * @param {(handle: object) => T} call
   * @returns {T}
   */
  [during](call) {
    const handle = this[live]();
    this.#calls += 1;
    try {
      return call(handle);
    } finally {
      this.#calls -= 1;
      if (this.#calls === 0 && this.#handle === null) this.#lifetime.end();
    }
  }

  /** Whether `close` was called. @type {boolean} */
  get closed() {
    return this.#handle === null;
  }

  /**
   * Frees the native handle now rather than when the object is garbage-collected (called by a
   * listener, when the call that delivered the transition returns). A breaker's or registry's
   * outstanding permits keep its native state (and listener) alive, and may still be recorded.
   * Later calls throw an Error with code `ERR_USE_AFTER_CLOSE`; closing again does nothing.
   */
  close() {
    this.#handle = null;
    if (this.#calls === 0) this.#lifetime.end();
  }

  /** `close()`, for `using` declarations. */
  [Symbol.dispose]() {
    this.close();
  }
}

module.exports = { Handle, live, during };
