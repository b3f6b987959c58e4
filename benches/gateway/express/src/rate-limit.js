'use strict';

/**
 * Middleware that limits each client to `max` requests per `windowMs`, with the Redis
 * sorted-set log of the common recipe: one pipeline per request drops expired entries, records
 * this request, counts the set and refreshes its expiry. A rejected request is recorded too.
 *
 * `keyOf(req)` names the client. A Redis failure is passed to Express's error handler.
 */
function slidingWindowLimit(redis, { windowMs, max, keyOf }) {
  const windowSeconds = Math.ceil(windowMs / 1000);
  return async function limitRequest(req, res, next) {
    const key = `rate-limit:${keyOf(req)}`;
    const now = Date.now();
    let count;
    try {
      const replies = await redis
        .pipeline()
        .zremrangebyscore(key, 0, now - windowMs)
        .zadd(key, now, `${now}-${Math.random()}`)
        .zcard(key)
        .expire(key, windowSeconds)
        .exec();
      const failed = replies.find(([error]) => error);
      if (failed) {
        throw failed[0];
      }
      count = replies[2][1];
    } catch (error) {
      next(error);
      return;
    }
    res.setHeader('X-RateLimit-Limit', max);
    res.setHeader('X-RateLimit-Remaining', Math.max(0, max - count));
    res.setHeader('X-RateLimit-Reset', Math.ceil((now + windowMs) / 1000));
    if (count > max) {
      res.setHeader('Retry-After', windowSeconds);
      res.status(429).json({ error: 'Too many requests', retryAfter: windowSeconds });
      return;
    }
    next();
  };
}

module.exports = { slidingWindowLimit };
