'use strict';
// Configurations: JavaScript settings (camelCase, milliseconds) checked for type and turned into
// the native layer's objects (sluicegate.h's field names, microseconds). Whether the values
// make sense together is the library's to judge: it refuses with SG_INVALID_CONFIG and names
// the setting.
//
// A setting left out (or undefined) takes the library's default. A misspelt setting is refused
// rather than ignored.

const { U32_MAX, whole, finite, duration } = require('./units');
const { typeError, valueError, unknownSettingError } = require('./errors');

/**
 * How one setting becomes a native field.
 *
 * @typedef {object} Setting
 * @property {string} field the sluicegate.h field
 * @property {(name: string, value: unknown) => number} convert
 */

/** @type {Setting['convert']} */
const count = (name, value) => whole(name, value, U32_MAX);
/** @type {Setting['convert']} */
const safeWhole = (name, value) => whole(name, value);

/** @type {Record<string, Setting>} */
const BREAKER_SETTINGS = {
  consecutiveFailures: { field: 'consecutive_failures', convert: count },
  failureRatePercent: { field: 'failure_rate_percent', convert: finite },
  slowCallRatePercent: { field: 'slow_call_rate_percent', convert: finite },
  slowCallThresholdMs: { field: 'slow_call_threshold_us', convert: duration },
  countWindow: { field: 'count_window', convert: count },
  timeWindowMs: { field: 'time_window_us', convert: duration },
  timeWindowBuckets: { field: 'time_window_buckets', convert: count },
  minCalls: { field: 'min_calls', convert: count },
  halfOpenPermits: { field: 'half_open_permits', convert: count },
  openForMs: { field: 'open_for_us', convert: duration },
  backoffFactor: { field: 'backoff_factor', convert: finite },
  backoffMaxMs: { field: 'backoff_max_us', convert: duration },
  jitter: { field: 'jitter', convert: finite },
  halfOpenSuccesses: { field: 'half_open_successes', convert: count },
  halfOpenFailureRatePercent: { field: 'half_open_failure_rate_percent', convert: finite },
  trialTimeoutMs: { field: 'trial_timeout_us', convert: duration },
  lanes: { field: 'lanes', convert: count },
  seed: { field: 'seed', convert: safeWhole },
};

/** @type {Record<string, Setting>} */
const LIMITER_SETTINGS = {
  maxKeys: { field: 'max_keys', convert: safeWhole },
  shards: { field: 'shards', convert: count },
  maxKeyLength: { field: 'max_key_len', convert: count },
};

/** @type {Record<string, Setting>} */
const REGISTRY_SETTINGS = {
  maxKeys: { field: 'max_keys', convert: safeWhole },
  shards: { field: 'shards', convert: count },
  maxKeyLength: { field: 'max_key_len', convert: count },
  idleAfterMs: { field: 'idle_after_us', convert: duration },
};

/** @type {Record<string, Setting>} */
const WINDOW_SETTINGS = {
  limit: { field: 'limit', convert: count },
  durationMs: { field: 'duration_us', convert: duration },
};

const TIME_BASES = new Map([
  ['library', 0],
  ['caller', 1],
]);

const FULL_POLICIES = new Map([
  ['evict-least-recent', 0],
  ['reject-new-keys', 1],
]);

/**
 * Checks that `value` is a plain settings object (not null, not an array).
 *
 * @param {string} name
 * @param {unknown} value
 * @returns {Record<string, unknown>}
 */
function settingsObject(name, value) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw typeError(name, 'an object', value);
  }
  return /** @type {Record<string, unknown>} */ (value);
}

/**
 * Converts the settings of `object` named in `table` into `native`, refusing any other key
 * except those in `handled`.
 *
 * @param {string} name the object, for error messages
 * @param {Record<string, unknown>} object
 * @param {Record<string, Setting>} table
 * @param {string[]} handled keys the caller converts itself
 * @returns {Record<string, unknown>} the native object, with the converted settings
 */
function convert(name, object, table, handled = []) {
  /** @type {Record<string, unknown>} */
  const native = {};
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined || handled.includes(key)) continue;
    const setting = Object.hasOwn(table, key) ? table[key] : undefined;
    if (setting === undefined) {
      throw unknownSettingError(`${name}.${key}`, [...Object.keys(table), ...handled]);
    }
    native[setting.field] = setting.convert(`${name}.${key}`, value);
  }
  return native;
}

/**
 * One of `choices` by name, or its first when left out.
 *
 * @param {string} name
 * @param {unknown} value
 * @param {Map<string, number>} choices
 */
function choice(name, value, choices) {
  if (value === undefined) return 0;
  const number = choices.get(/** @type {string} */ (value));
  if (number === undefined) {
    const names = [...choices.keys()].map((n) => JSON.stringify(n)).join(' or ');
    throw valueError(name, names, value);
  }
  return number;
}

/**
 * A circuit breaker's settings. Give at least one trip policy (`consecutiveFailures`,
 * `failureRatePercent` or `slowCallRatePercent`); a rate policy needs a window, `countWindow` or
 * `timeWindowMs`, not both. Every other setting has a default. sluicegate.h documents each
 * field (its name there is in snake_case, in microseconds where this one is in milliseconds).
 *
 * @typedef {object} BreakerConfig
 * @property {number} [consecutiveFailures] open after this many failures in a row (1 to 65,535)
 * @property {number} [failureRatePercent] open when failures reach this percentage of the window
 * @property {number} [slowCallRatePercent] open when slow calls reach this percentage of the window
 * @property {number} [slowCallThresholdMs] a call this long or longer is slow; with, and only
 *   with, `slowCallRatePercent`
 * @property {number} [countWindow] judge rates over the last this many calls (1 to 1,048,576)
 * @property {number} [timeWindowMs] judge rates over the last this many milliseconds
 * @property {number} [timeWindowBuckets] the buckets `timeWindowMs` is split into (default 10)
 * @property {number} [minCalls] judge rates only once the window holds this many calls (default 10)
 * @property {number} [halfOpenPermits] half-open trial calls in flight at once (default 1)
 * @property {number} [openForMs] how long the breaker stays open (default 10,000)
 * @property {number} [backoffFactor] multiply the open time by this after each failed probe
 * @property {number} [backoffMaxMs] the longest open time; with, and only with, `backoffFactor`
 * @property {number} [jitter] shorten each open time by a random part of up to this fraction
 * @property {number} [halfOpenSuccesses] half-open trials that must succeed to close (default 1)
 * @property {number} [halfOpenFailureRatePercent] reopen once failed trials reach this percentage
 *   (default: the first failed trial reopens)
 * @property {number} [trialTimeoutMs] a trial unreported this long counts as failed (default 60,000)
 * @property {number} [lanes] counter stripes, a power of two up to 64
 * @property {number} [seed] seeds the jitter, so runs repeat (default: random)
 */

/**
 * @param {unknown} config
 * @param {string} name
 * @returns {Record<string, unknown>} sg_breaker_config's fields by name
 */
function breakerConfig(config, name = 'config') {
  return convert(name, settingsObject(name, config), BREAKER_SETTINGS);
}

/**
 * One sliding window: at most `limit` cost units in any span of `durationMs`.
 *
 * @typedef {object} WindowConfig
 * @property {number} limit the most cost units admitted in any span of the window (1 to 2^32 - 1)
 * @property {number} durationMs the window's length, in milliseconds (at least 0.001)
 */

/**
 * A limiter's settings.
 *
 * @typedef {object} LimiterConfig
 * @property {WindowConfig[]} windows the windows a request must fit, all at once (1 to 8, no two
 *   of the same length)
 * @property {'library' | 'caller'} [timeBase] `'library'` (the default): the library reads its
 *   own monotonic clock, for `check` and `peek`; `'caller'`: the caller passes the time, for
 *   `checkAt` and `peekAt`
 * @property {number} [maxKeys] the most keys tracked at once (default 2,097,152)
 * @property {number} [shards] a power of two up to 4096 (default: four per core)
 * @property {number} [maxKeyLength] the longest key accepted, in bytes, up to 65,536 (default 1024)
 * @property {'evict-least-recent' | 'reject-new-keys'} [onFull] what a full limiter does with a
 *   new key once no idle key can be reclaimed: evict the least recently seen key (the default,
 *   so a flood of new keys cannot lock new clients out), or refuse it with SG_KEYS_EXHAUSTED
 */

/**
 * @param {unknown} config
 * @returns {Record<string, unknown>} sg_limiter_config's fields by name
 */
function limiterConfig(config) {
  const settings = settingsObject('config', config);
  const native = convert('config', settings, LIMITER_SETTINGS, ['windows', 'timeBase', 'onFull']);
  const { windows } = settings;
  if (!Array.isArray(windows)) throw typeError('config.windows', 'an array of windows', windows);
  native.windows = windows.map((window, i) => {
    const name = `config.windows[${i}]`;
    return convert(name, settingsObject(name, window), WINDOW_SETTINGS);
  });
  native.time_base = choice('config.timeBase', settings.timeBase, TIME_BASES);
  native.on_full = choice('config.onFull', settings.onFull, FULL_POLICIES);
  return native;
}

/**
 * A registry's settings.
 *
 * @typedef {object} BreakersConfig
 * @property {BreakerConfig} breaker the settings of every key's breaker (its `seed` seeds all
 *   of them, its `lanes` applies to each)
 * @property {Map<string | Uint8Array, BreakerConfig> | Record<string, BreakerConfig>} [overrides]
 *   keys whose breaker has settings of its own (their `seed` and `lanes` are ignored)
 * @property {number} [maxKeys] the most breakers held at once (default 65,536)
 * @property {number} [idleAfterMs] how long a breaker must go without an admission before it may
 *   be forgotten (default 5 minutes); only closed breakers with nothing outstanding are
 * @property {number} [shards] a power of two up to 4096 (default: four per core)
 * @property {number} [maxKeyLength] the longest key accepted, in bytes, up to 65,536 (default 256)
 */

/**
 * @param {unknown} config
 * @returns {{ native: Record<string, unknown>, overrideKeys: (string | Uint8Array)[],
 *   overrideConfigs: Record<string, unknown>[] }}
 */
function registryConfig(config) {
  const settings = settingsObject('config', config);
  const native = convert('config', settings, REGISTRY_SETTINGS, ['breaker', 'overrides']);
  native.breaker = breakerConfig(settings.breaker, 'config.breaker');
  const overrides = settings.overrides ?? {};
  const entries =
    overrides instanceof Map ? [...overrides] : Object.entries(settingsObject('config.overrides', overrides));
  const overrideKeys = [];
  const overrideConfigs = [];
  for (const [key, breaker] of entries) {
    if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
      throw typeError('a key of config.overrides', 'a string, a Buffer or a Uint8Array', key);
    }
    overrideKeys.push(key);
    const shown = typeof key === 'string' ? key : Buffer.from(key).toString('utf8');
    overrideConfigs.push(breakerConfig(breaker, `config.overrides[${JSON.stringify(shown)}]`));
  }
  return { native, overrideKeys, overrideConfigs };
}

module.exports = { breakerConfig, limiterConfig, registryConfig };
