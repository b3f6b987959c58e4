"""How to build a circuit breaker: :class:`BreakerConfig` and its C struct."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ._config import Kind, Setting, fill, new_struct
from ._units import Seconds


@dataclass(frozen=True, kw_only=True)
class BreakerConfig:
    """How a circuit breaker trips, waits and probes.

    Set at least one trip policy: ``consecutive_failures``, ``failure_rate_percent`` or
    ``slow_call_rate_percent``. A rate policy judges a window: ``count_window`` (the last so
    many calls) or ``time_window`` (the last so many seconds), not both. Durations are seconds
    or ``timedelta``. Every setting left as ``None`` is off, or takes the default given below;
    the library checks the values when a :class:`Breaker` or :class:`Breakers` is built and
    raises :class:`ConfigError` naming the setting at fault.

    >>> BreakerConfig(consecutive_failures=5, open_for=30).open_for
    30
    """

    consecutive_failures: int | None = None
    """Open after this many failures in a row (1 to 65,535)."""
    failure_rate_percent: float | None = None
    """Open when failures make up this percentage (above 0, at most 100) of the window."""
    slow_call_rate_percent: float | None = None
    """Open when calls taking ``slow_call_threshold`` or longer make up this percentage of
    the window."""
    slow_call_threshold: Seconds | None = None
    """A call this long or longer is slow; required with, and only with,
    ``slow_call_rate_percent``."""
    count_window: int | None = None
    """Judge rates over the last this many calls (1 to 1,048,576)."""
    time_window: Seconds | None = None
    """Judge rates over the last this many seconds."""
    time_window_buckets: int | None = None
    """The buckets ``time_window`` is split into (1 to 4096, each a whole number of
    microseconds; default 10)."""
    min_calls: int | None = None
    """Judge rates only once the window holds this many calls (default 10, or the count
    window's size if smaller)."""
    half_open_permits: int | None = None
    """Half-open trial calls in flight at once (1 to 1024; default 1)."""
    open_for: Seconds | None = None
    """How long the breaker stays open (the first open time with a backoff; default 10 s)."""
    backoff_factor: float | None = None
    """Multiply the open time by this (a finite number of at least 1) after each failed
    half-open probe, up to ``backoff_max``."""
    backoff_max: Seconds | None = None
    """The longest open time; required with, and only with, ``backoff_factor``."""
    jitter: float | None = None
    """Shorten each open time by a random part of up to this fraction of it (0 to 1), so
    breakers that tripped together do not probe together."""
    half_open_successes: int | None = None
    """Half-open trials that must succeed to close (1 to 65,535; default 1)."""
    lanes: int | None = None
    """Counter stripes, a power of two up to 64 (default one per core for a lone breaker, 1
    for each breaker of a registry): more cost memory and spare threads counting at once
    from fighting over one cache line."""
    half_open_failure_rate_percent: float | None = None
    """Judge the ``half_open_successes`` trials by failure rate: reopen once failures are
    this percentage of them (default: the first failed trial reopens)."""
    trial_timeout: Seconds | None = None
    """A half-open trial unreported for this long counts as failed (default 60 s). Set it
    above the upstream's timeout."""
    seed: int | None = None
    """Seeds the jitter's random numbers, so runs repeat (default: a random seed)."""


SETTINGS = (
    Setting("consecutive_failures", "consecutive_failures", Kind.COUNT),
    Setting("failure_rate_percent", "failure_rate_percent", Kind.NUMBER),
    Setting("slow_call_rate_percent", "slow_call_rate_percent", Kind.NUMBER),
    Setting("slow_call_threshold", "slow_call_threshold_us", Kind.SECONDS, zero_means_default=True),
    Setting("count_window", "count_window", Kind.COUNT),
    Setting("time_window", "time_window_us", Kind.SECONDS, zero_means_default=True),
    Setting("time_window_buckets", "time_window_buckets", Kind.COUNT, zero_means_default=True),
    Setting("min_calls", "min_calls", Kind.COUNT, zero_means_default=True),
    Setting("half_open_permits", "half_open_permits", Kind.COUNT, zero_means_default=True),
    Setting("open_for", "open_for_us", Kind.SECONDS, zero_means_default=True),
    Setting("backoff_factor", "backoff_factor", Kind.NUMBER),
    Setting("backoff_max", "backoff_max_us", Kind.SECONDS, zero_means_default=True),
    Setting("jitter", "jitter", Kind.NUMBER),
    Setting("half_open_successes", "half_open_successes", Kind.COUNT, zero_means_default=True),
    Setting("lanes", "lanes", Kind.COUNT, zero_means_default=True),
    Setting("half_open_failure_rate_percent", "half_open_failure_rate_percent", Kind.NUMBER),
    Setting("trial_timeout", "trial_timeout_us", Kind.SECONDS, zero_means_default=True),
    Setting("seed", "seed", Kind.COUNT, zero_means_default=True),
)
"""Each setting of :class:`BreakerConfig` and the ``sg_breaker_config`` field it fills."""


def breaker_struct(config: BreakerConfig) -> Any:
    """A new ``sg_breaker_config`` holding ``config``."""
    if not isinstance(config, BreakerConfig):
        raise TypeError(f"expected a BreakerConfig, not {type(config).__name__}")
    struct = new_struct("sg_breaker_config")
    fill(struct, SETTINGS, {f.name: getattr(config, f.name) for f in dataclasses.fields(config)})
    return struct
