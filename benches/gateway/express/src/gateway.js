'use strict';

// The Express row of benches/gateway/compare.sh: JWT, then a Redis sorted-set limit per user,
// then a breaker-guarded fetch to one upstream. Settings come from the environment (config.js).

const express = require('express');
const Redis = require('ioredis');
const { loadConfig } = require('./config');
const { authenticate } = require('./auth');
const { slidingWindowLimit } = require('./rate-limit');
const { CircuitBreaker } = require('./circuit-breaker');
const { proxyTo } = require('./proxy');

function buildApp(config, redis) {
  const app = express();
  app.use(express.json());
  app.use(authenticate(config.publicKeyPem));
  app.use(
    '/',
    slidingWindowLimit(redis, {
      windowMs: config.rateLimitWindowMs,
      max: config.rateLimitMax,
      keyOf: (req) => req.user?.userId ?? req.ip,
    }),
    proxyTo(
      config.upstreamUrl,
      new CircuitBreaker({ failureThreshold: 5, resetTimeoutMs: 30000, successThreshold: 2 }),
      { timeoutMs: config.upstreamTimeoutMs },
    ),
  );
  // Errors passed to next(), such as a Redis failure in the limiter.
  app.use((error, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    res.status(500).json({ error: 'Internal gateway error' });
  });
  return app;
}

function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    console.error(`express gateway: ${error.message}`);
    process.exit(2);
  }
  const redis = new Redis(config.redisUrl);
  const server = buildApp(config, redis).listen(config.port, config.host, () => {
    console.log(`express gateway on http://${config.host}:${config.port} -> ${config.upstreamUrl}`);
  });
  const stop = () => {
    server.close();
    redis.disconnect();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
