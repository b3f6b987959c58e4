'use strict';

/** Thrown by `CircuitBreaker.call` while the breaker is open. */
class CircuitOpenError extends Error {
  constructor() {
    super('circuit open');
    this.name = 'CircuitOpenError';
  }
}

/**
 * The common recipe's breaker: it opens after `failureThreshold` consecutive failures, lets
 * calls through again `resetTimeoutMs` after the last failure, and closes after
 * `successThreshold` successes in that trial state. Any thrown error counts as a failure.
 */
class CircuitBreaker {
  constructor({ failureThreshold, resetTimeoutMs, successThreshold }) {
    this.failureThreshold = failureThreshold;
    this.resetTimeoutMs = resetTimeoutMs;
    this.successThreshold = successThreshold;
    this.state = 'closed';
    this.failures = 0;
    this.trialSuccesses = 0;
    this.lastFailureAt = 0;
  }

  async call(operation) {
    if (this.state === 'open') {
      if (Date.now() - this.lastFailureAt <= this.resetTimeoutMs) {
        throw new CircuitOpenError();
      }
      this.state = 'trial';
      this.trialSuccesses = 0;
    }
    let result;
    try {
      result = await operation();
    } catch (error) {
      this.recordFailure();
      throw error;
    }
    this.recordSuccess();
    return result;
  }

  recordSuccess() {
    if (this.state === 'trial') {
      this.trialSuccesses += 1;
      if (this.trialSuccesses >= this.successThreshold) {
        this.state = 'closed';
        this.failures = 0;
      }
    } else {
      this.failures = 0;
    }
  }

  recordFailure() {
    this.failures += 1;
    this.lastFailureAt = Date.now();
    if (this.failures >= this.failureThreshold) {
      this.state = 'open';
    }
  }
}

module.exports = { CircuitBreaker, CircuitOpenError };
