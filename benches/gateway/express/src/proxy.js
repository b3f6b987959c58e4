'use strict';

const crypto = require('node:crypto');
const { CircuitOpenError } = require('./circuit-breaker');

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Route handler that forwards the request to `upstreamUrl` with fetch, through `breaker`, in the
 * common recipe's way: the path without its query string, the client's headers plus
 * `x-user-id` and `x-correlation-id`, a JSON re-serialised body, and the upstream's JSON answer
 * parsed and sent again. A non-2xx answer counts as a failure; failures answer 502, an open
 * breaker 503.
 */
function proxyTo(upstreamUrl, breaker, { timeoutMs }) {
  const upstreamHost = new URL(upstreamUrl).host;
  return async function proxyRequest(req, res) {
    try {
      const response = await breaker.call(async () => {
        const answer = await fetch(`${upstreamUrl}${req.path}`, {
          method: req.method,
          headers: {
            ...req.headers,
            host: upstreamHost,
            'x-user-id': req.user?.userId ?? '',
            'x-correlation-id': req.headers['x-correlation-id'] ?? crypto.randomUUID(),
          },
          body: METHODS_WITH_BODY.has(req.method) ? JSON.stringify(req.body) : undefined,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!answer.ok) {
          throw new Error(`upstream answered ${answer.status}`);
        }
        return answer;
      });
      const payload = await response.json();
      res.status(response.status).json(payload);
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        res.status(503).json({ error: 'Service temporarily unavailable' });
      } else {
        res.status(502).json({ error: 'Upstream service error' });
      }
    }
  };
}

module.exports = { proxyTo };
