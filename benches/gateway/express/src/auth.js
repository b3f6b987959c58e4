'use strict';

const jwt = require('jsonwebtoken');

const BEARER = 'Bearer ';

/**
 * Middleware that admits a request only with a valid RS256 bearer token, and stores the
 * token's subject and scopes on `req.user`.
 *
 * The key is handed to jsonwebtoken as PEM text, so every request parses the PEM again: this is
 * how the common recipe is written, and its cost is part of what the benchmark measures.
 */
function authenticate(publicKeyPem) {
  return function authenticateRequest(req, res, next) {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith(BEARER)) {
      res.status(401).json({ error: 'Missing authorization header' });
      return;
    }
    let claims;
    try {
      claims = jwt.verify(header.slice(BEARER.length), publicKeyPem, { algorithms: ['RS256'] });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) {
        res.status(401).json({ error: 'Token expired', code: 'TOKEN_EXPIRED' });
      } else {
        res.status(401).json({ error: 'Invalid token' });
      }
      return;
    }
    req.user = {
      userId: claims.sub,
      scopes: Array.isArray(claims.scopes) ? claims.scopes : [],
    };
    next();
  };
}

module.exports = { authenticate };
