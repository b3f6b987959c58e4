'use strict';
// Native memory owned by JavaScript objects: released exactly once, by an explicit close() or,
// for an object dropped without one, after the garbage collector has collected it.

/** How many handles of each kind this thread holds open now. */
const open = { limiters: 0, breakers: 0, registries: 0, permits: 0 };

const finalizers = new FinalizationRegistry((lifetime) => lifetime.end());

/**
 * The native memory behind one object. Its release function must not reference the object,
 * or the object could never be collected.
 */
class Lifetime {
  /** @type {(() => void) | null} */
  #release;
  /** @type {keyof typeof open} */
  #kind;

  /**
   * @param {object} owner the object whose collection releases the memory
   * @param {keyof typeof open} kind what it is, for `openHandles`
   * @param {() => void} release frees the memory
   */
  constructor(owner, kind, release) {
    this.#release = release;
    this.#kind = kind;
    open[kind] += 1;
    finalizers.register(owner, this, this);
  }

  /**
   * Takes the memory back from the finalizer without releasing it, for a caller that hands it
   * to a function that consumes it. Returns false if it was released or taken already.
   */
  disown() {
    if (this.#release === null) return false;
    this.#release = null;
    finalizers.unregister(this);
    open[this.#kind] -= 1;
    return true;
  }

  /** Releases the memory, unless it was already; returns whether this call released it. */
  end() {
    const release = this.#release;
    if (release === null) return false;
    this.disown();
    release();
    return true;
  }
}

/**
 * How many native handles this thread holds open: limiters, breakers and registries not yet
 * closed or collected, and permits not yet recorded, released or collected. A count that only
 * grows shows handles that are neither closed nor dropped.
 *
 * @returns {{ limiters: number, breakers: number, registries: number, permits: number }}
 * @example
 * const { Limiter, openHandles } = require('sluicegate');
 * const before = openHandles().limiters;
 * const limiter = new Limiter({ windows: [{ limit: 10, durationMs: 1000 }] });
 * console.log(openHandles().limiters - before); // => 1
 * limiter.close();
 * console.log(openHandles().limiters - before); // => 0
 */
function openHandles() {
  return { ...open };
}

module.exports = { Lifetime, openHandles };
