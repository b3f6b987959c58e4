'use strict';

const fs = require('node:fs');

/**
 * Reads the gateway's settings from the environment.
 *
 * Required: GATEWAY_PORT, UPSTREAM_URL, REDIS_URL, JWT_PUBLIC_KEY_FILE (a PEM file).
 * Optional: GATEWAY_HOST (127.0.0.1), RATE_LIMIT_MAX (100), RATE_LIMIT_WINDOW_MS (60000),
 * UPSTREAM_TIMEOUT_MS (5000).
 *
 * Throws an Error naming the variable when one is missing or malformed.
 */
function loadConfig(env) {
  return {
    host: env.GATEWAY_HOST || '127.0.0.1',
    port: integer(env, 'GATEWAY_PORT', { min: 1, max: 65535 }),
    upstreamUrl: url(env, 'UPSTREAM_URL'),
    redisUrl: url(env, 'REDIS_URL'),
    publicKeyPem: pemFile(env, 'JWT_PUBLIC_KEY_FILE'),
    rateLimitMax: integer(env, 'RATE_LIMIT_MAX', { min: 1, fallback: 100 }),
    rateLimitWindowMs: integer(env, 'RATE_LIMIT_WINDOW_MS', { min: 1000, fallback: 60000 }),
    upstreamTimeoutMs: integer(env, 'UPSTREAM_TIMEOUT_MS', { min: 1, fallback: 5000 }),
  };
}

function required(env, name) {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function integer(env, name, { min, max = Number.MAX_SAFE_INTEGER, fallback }) {
  const text = fallback !== undefined && !env[name] ? String(fallback) : required(env, name);
  if (!/^[0-9]+$/.test(text)) {
    throw new Error(`${name} must be a whole number, got ${JSON.stringify(text)}`);
  }
  const value = Number(text);
  if (value < min || value > max) {
    throw new Error(`${name} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function url(env, name) {
  const text = required(env, name);
  try {
    // Trailing slashes are dropped so that `${url}${path}` never doubles them.
    return new URL(text).toString().replace(/\/+$/, '');
  } catch {
    throw new Error(`${name} is not a URL: ${JSON.stringify(text)}`);
  }
}

function pemFile(env, name) {
  const path = required(env, name);
  let text;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${name}: cannot read ${path}: ${error.message}`);
  }
  if (!text.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new Error(`${name}: ${path} holds no PEM public key`);
  }
  return text;
}

module.exports = { loadConfig };
