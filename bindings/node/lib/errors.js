'use strict';
// Errors: the library's result codes as SluicegateError, and the argument errors Node's own
// APIs throw (TypeError / RangeError with an `ERR_*` code).

const { native } = require('./native');

/** The library's result codes by number, named as in sluicegate.h. */
const RESULT_NAMES = Object.freeze([
  'SG_OK',
  'SG_NULL_ARGUMENT',
  'SG_INVALID_CONFIG',
  'SG_UNSUPPORTED_STRUCT_SIZE',
  'SG_ZERO_COST',
  'SG_COST_EXCEEDS_LIMIT',
  'SG_KEY_TOO_LONG',
  'SG_KEYS_EXHAUSTED',
  'SG_STALE_OUTCOME',
  'SG_INVALID_ARGUMENT',
  'SG_PANIC',
  'SG_WRONG_TIME_BASE',
]);

/** The number of `SG_STALE_OUTCOME`, which a permit's record answers with rather than throws. */
const STALE_OUTCOME = 8;

/**
 * A call the library refused. `code` names the result code as sluicegate.h does (for example
 * `'SG_INVALID_CONFIG'`, `'SG_KEY_TOO_LONG'`), `result` is its number, and `message` is the
 * library's detail, naming the setting or argument at fault.
 *
 * A rate-limit rejection or an open circuit is an answer, never an error.
 *
 * @example
 * const { Limiter, SluicegateError } = require('sluicegate');
 * try {
 *   new Limiter({ windows: [{ limit: 0, durationMs: 1000 }] });
 * } catch (err) {
 *   if (!(err instanceof SluicegateError)) throw err;
 *   console.log(err.code, err.message); // => SG_INVALID_CONFIG window 0: the limit must be at least 1
 * }
 */
class SluicegateError extends Error {
  /**
   * @param {number} result the library's result code
   * @param {string} detail what went wrong
   */
  constructor(result, detail) {
    super(detail);
    this.name = 'SluicegateError';
    /** @type {string} the code's name, as in sluicegate.h */
    this.code = RESULT_NAMES[result] ?? `SG_RESULT_${result}`;
    /** @type {number} the code's number, as in sluicegate.h */
    this.result = result;
  }
}

/**
 * The error for a failed call's `result`, with the detail the library left for this thread.
 * Call it right after the call that failed.
 *
 * @param {number} result
 * @returns {SluicegateError}
 */
function resultError(result) {
  return new SluicegateError(result, native.lastError() || native.resultMessage(result));
}

/**
 * Throws the SluicegateError for `result` unless it is SG_OK.
 *
 * @param {number} result
 */
function succeed(result) {
  if (result !== 0) throw resultError(result);
}

/**
 * The handle a native constructor made, or throws the SluicegateError it answered with.
 *
 * @param {object | number} answer a handle, or the result code of a refusal
 * @returns {object}
 */
function created(answer) {
  if (typeof answer === 'number') throw resultError(answer);
  return answer;
}

/**
 * An error carrying one of Node's `ERR_*` codes.
 *
 * @template {ErrorConstructor} E
 * @param {E} Kind Error, TypeError or RangeError
 * @param {string} code
 * @param {string} message
 */
function nodeError(Kind, code, message) {
  const error = /** @type {Error & { code: string }} */ (new Kind(message));
  error.code = code;
  return error;
}

/** @param {string} what the closed object, e.g. "limiter" */
function closedError(what) {
  return nodeError(Error, 'ERR_USE_AFTER_CLOSE', `this ${what} is closed`);
}

/**
 * @param {string} name the argument or setting
 * @param {string} expected what it must be
 * @param {unknown} value what it was
 */
function typeError(name, expected, value) {
  return nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', `${name} must be ${expected}, not ${describe(value)}`);
}

/**
 * @param {string} name the argument or setting
 * @param {string} range what it must be
 * @param {unknown} value what it was
 */
function rangeError(name, range, value) {
  return nodeError(RangeError, 'ERR_OUT_OF_RANGE', `${name} must be ${range}, not ${describe(value)}`);
}

/**
 * @param {string} name the argument or setting
 * @param {string} allowed what it may be
 * @param {unknown} value what it was
 */
function valueError(name, allowed, value) {
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `${name} must be ${allowed}, not ${describe(value)}`);
}

/**
 * @param {string} name the misspelt or unknown setting, e.g. "config.maxKey"
 * @param {string[]} known the settings there are
 */
function unknownSettingError(name, known) {
  return nodeError(
    TypeError,
    'ERR_INVALID_ARG_VALUE',
    `${name} is not a setting (the settings are ${known.join(', ')})`,
  );
}

/**
 * A short description of a value for an error message.
 *
 * @param {unknown} value
 */
function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : `an object (${value.constructor?.name ?? 'null prototype'})`;
}

module.exports = {
  SluicegateError,
  STALE_OUTCOME,
  resultError,
  succeed,
  created,
  closedError,
  typeError,
  rangeError,
  valueError,
  unknownSettingError,
};
