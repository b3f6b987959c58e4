'use strict';
// Time and number conversions between JavaScript (milliseconds, numbers) and the library
// (whole microseconds, unsigned integers).
//
// Milliseconds are Node's unit (setTimeout, performance.now()); they may have a fraction, and
// are rounded to the nearest microsecond, the library's resolution.

const { typeError, rangeError } = require('./errors');

/** The largest unsigned 32-bit integer. */
const U32_MAX = 0xffff_ffff;

/**
 * A whole number in [0, max].
 *
 * @param {string} name
 * @param {unknown} value
 * @param {number} max
 * @returns {number}
 */
function whole(name, value, max = Number.MAX_SAFE_INTEGER) {
  if (typeof value !== 'number') throw typeError(name, 'a number', value);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw rangeError(name, `a whole number from 0 to ${max}`, value);
  }
  return value;
}

/**
 * A finite number.
 *
 * @param {string} name
 * @param {unknown} value
 * @returns {number}
 */
function finite(name, value) {
  if (typeof value !== 'number') throw typeError(name, 'a number', value);
  if (!Number.isFinite(value)) throw rangeError(name, 'a finite number', value);
  return value;
}

/**
 * Milliseconds (zero or more, fraction allowed) as whole microseconds.
 *
 * @param {string} name
 * @param {unknown} ms
 * @returns {number}
 */
function micros(name, ms) {
  if (typeof ms !== 'number') throw typeError(name, 'a number of milliseconds', ms);
  const us = Math.round(ms * 1000);
  if (!(ms >= 0) || !Number.isSafeInteger(us)) {
    throw rangeError(name, `from 0 to ${Math.floor(Number.MAX_SAFE_INTEGER / 1000)} milliseconds`, ms);
  }
  return us;
}

/**
 * A configured length of time: as `micros`, but a positive time below half a microsecond is
 * refused rather than rounded to 0, which the library reads as "the default".
 *
 * @param {string} name
 * @param {unknown} ms
 * @returns {number}
 */
function duration(name, ms) {
  const us = micros(name, ms);
  if (us === 0 && /** @type {number} */ (ms) > 0)
    throw rangeError(name, 'at least 0.001 milliseconds, or 0', ms);
  return us;
}

/**
 * Microseconds from the library as milliseconds (Infinity stays Infinity).
 *
 * @param {number} us
 * @returns {number}
 */
function millis(us) {
  return us / 1000;
}

module.exports = { U32_MAX, whole, finite, micros, duration, millis };
