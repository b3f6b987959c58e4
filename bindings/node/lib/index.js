'use strict';
/**
 * Sluicegate for Node: an exact sliding-window-log rate limiter and circuit breakers, running
 * in this process through libsluicegate's C interface.
 *
 * Requiring the package opens the library: `SLUICEGATE_LIB` when set (a path to
 * libsluicegate.so), else `libsluicegate.so` wherever the dynamic loader finds it.
 *
 * @example
 * const { Limiter } = require('sluicegate');
 * const limiter = new Limiter({ windows: [{ limit: 100, durationMs: 60_000 }] });
 * const decision = limiter.check('203.0.113.7');
 * if (!decision.allowed) {
 *   // reply 429 with Retry-After: Math.ceil(decision.retryAfterMs / 1000)
 * }
 *
 * @module sluicegate
 */

const { version, libraryPath } = require('./native');
const { SluicegateError } = require('./errors');
const { openHandles } = require('./lifetime');
const { Limiter } = require('./limiter');
const { Breaker } = require('./breaker');
const { Breakers } = require('./registry');
const { Permit, Rejection } = require('./permit');

module.exports = {
  Limiter,
  Breaker,
  Breakers,
  Permit,
  Rejection,
  SluicegateError,
  openHandles,
  /** The library's version, "MAJOR.MINOR.PATCH". */
  version,
  /** What the library was opened as: `SLUICEGATE_LIB`, or `libsluicegate.so`. */
  libraryPath,
};
