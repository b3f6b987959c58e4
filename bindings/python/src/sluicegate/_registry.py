"""A registry of circuit breakers by key: one per upstream host, made on first use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._breaker import BreakerCounters
from ._breaker_config import BreakerConfig, breaker_struct
from ._config import Kind, Setting, fill, new_struct
from ._enums import State
from ._errors import error_for
from ._handle import Handle
from ._layout import from_struct
from ._listener import (
    KeyedTransitionListener,
    Listener,
    c_listener,
    deliver_keyed,
    release_holding,
)
from ._native import ffi, lib
from ._permit import Admission, admission
from ._units import Key, Seconds, key_bytes


@dataclass(frozen=True)
class RegistryStats:
    """A registry's counters and sizes, as :meth:`Breakers.stats` reads them."""

    keys: int
    """Breakers held now."""
    reclaimed: int
    """Idle breakers forgotten."""
    refused: int
    """New keys refused because the registry was full."""
    bytes: int
    """Bytes held by the registry's tables, keys and breakers."""


_SETTINGS = (
    Setting("shards", "shards", Kind.COUNT, zero_means_default=True),
    Setting("max_keys", "max_keys", Kind.COUNT, zero_means_default=True),
    Setting("idle_after", "idle_after_us", Kind.SECONDS, zero_means_default=True),
    Setting("max_key_len", "max_key_len", Kind.COUNT, zero_means_default=True),
)


class Breakers(Handle):
    """Circuit breakers by key, each made from ``config`` on its key's first use.

    - ``overrides``: keys whose breakers use a configuration of their own (its ``seed`` and
      ``lanes`` are ignored: the registry's apply).
    - ``shards``: a power of two up to 4096 (default four per core).
    - ``max_keys``: the most breakers held at once (default 65,536). A new key at a full
      shard reclaims an idle breaker or is refused with :class:`KeysExhaustedError`.
    - ``idle_after``: how long a breaker must go without an admission before it may be
      forgotten (default 5 minutes); only closed breakers with nothing outstanding are.
    - ``max_key_len``: the longest key accepted, in bytes, up to 65,536 (default 256).
    - ``on_transition``: called with the key (as bytes) and a :class:`Transition` for every
      change of state of every breaker; see :class:`Breaker`.

    Keys are ``str`` (UTF-8) or bytes. Thread-safe: one registry may be shared by any number
    of threads. It is released by :meth:`close`, at the end of a ``with`` block, or when
    garbage-collected; permits still out keep their breakers alive.

    >>> from sluicegate import BreakerConfig, Outcome
    >>> hosts = Breakers(BreakerConfig(consecutive_failures=1))
    >>> hosts.acquire("10.0.0.1:8080").record(Outcome.FAILURE)
    <Recorded.COUNTED: 'counted'>
    >>> bool(hosts.acquire("10.0.0.1:8080")), bool(hosts.acquire("10.0.0.2:8080"))
    (False, True)
    """

    __slots__ = ("_config", "_listener")

    def __init__(
        self,
        config: BreakerConfig,
        *,
        overrides: Mapping[Key, BreakerConfig] | None = None,
        shards: int | None = None,
        max_keys: int | None = None,
        idle_after: Seconds | None = None,
        max_key_len: int | None = None,
        on_transition: KeyedTransitionListener | None = None,
    ) -> None:
        c_config = new_struct("sg_breakers_config")
        c_breaker = breaker_struct(config)
        c_config.breaker = c_breaker
        overrides = dict(overrides or {})
        c_overrides = ffi.new("sg_breaker_override[]", len(overrides))
        alive: list[Any] = []  # what the overrides point to, until the library copies it
        for c_override, (key, override) in zip(c_overrides, overrides.items(), strict=True):
            key = key_bytes(key)
            override_config = breaker_struct(override)
            alive += (key, override_config)
            c_override.key = ffi.from_buffer("uint8_t[]", key)
            c_override.key_len = len(key)
            c_override.config = override_config
        c_config.overrides = c_overrides
        c_config.overrides_len = len(overrides)
        fill(
            c_config,
            _SETTINGS,
            {
                "shards": shards,
                "max_keys": max_keys,
                "idle_after": idle_after,
                "max_key_len": max_key_len,
            },
        )
        self._config = config
        self._listener = None if on_transition is None else Listener(on_transition)
        out = ffi.new("sg_breakers **")
        code = lib.sg_breakers_new(c_config, *c_listener(self._listener, deliver_keyed), out)
        if code:
            raise error_for(code)
        super().__init__(out[0], release_holding(lib.sg_breakers_free, self._listener))

    @property
    def config(self) -> BreakerConfig:
        """The configuration of every key's breaker, overrides aside."""
        return self._config

    def acquire(self, key: Key) -> Admission:
        """Asks ``key``'s breaker (made if new) to make one call; see :meth:`Breaker.acquire`.

        Raises :class:`KeyTooLongError`, or :class:`KeysExhaustedError` when the key is new
        and the registry is full of busy breakers.
        """
        out = self._keyed(lib.sg_breakers_acquire, "sg_admission *", key)
        return admission(out, self._listener)

    def state(self, key: Key) -> State:
        """The state of ``key``'s breaker; a key the registry does not hold is
        ``State.CLOSED``, the state its next call would find. Makes no breaker."""
        return State(self._keyed(lib.sg_breakers_get_state, "sg_state *", key)[0])

    def counters(self, key: Key) -> BreakerCounters:
        """The counters of ``key``'s breaker; all zero for a key the registry does not hold.
        Makes no breaker."""
        out = self._keyed(lib.sg_breakers_get_counters, "sg_breaker_counters *", key)
        return from_struct(BreakerCounters, out)

    def force_open(self, key: Key) -> bool:
        """:meth:`Breaker.force_open` on ``key``'s breaker, made if new (so an operator can
        hold a host off before its first call). Forced-open breakers are never forgotten as
        idle. Returns false if it was already forced open."""
        return bool(self._keyed(lib.sg_breakers_force_open, "bool *", key)[0])

    def disable(self, key: Key) -> bool:
        """:meth:`Breaker.disable` on ``key``'s breaker, made if new. Disabled breakers are
        never forgotten as idle. Returns false if it was already disabled."""
        return bool(self._keyed(lib.sg_breakers_disable, "bool *", key)[0])

    def reset(self, key: Key) -> bool:
        """:meth:`Breaker.reset` on ``key``'s breaker, if the registry holds one; returns
        whether it did. Makes no breaker."""
        return bool(self._keyed(lib.sg_breakers_reset, "bool *", key)[0])

    def remove(self, key: Key) -> bool:
        """Forgets ``key``'s breaker; returns whether the registry held one. Permits still
        out record into the forgotten breaker; the key's next call starts a new one."""
        return bool(self._keyed(lib.sg_breakers_remove, "bool *", key)[0])

    def __len__(self) -> int:
        """How many breakers the registry holds."""
        return int(self._query(lib.sg_breakers_len, "size_t *")[0])

    def stats(self) -> RegistryStats:
        """The registry's counters and sizes now."""
        return from_struct(
            RegistryStats, self._query(lib.sg_breakers_get_stats, "sg_breakers_stats *")
        )

    def __repr__(self) -> str:
        return f"<Breakers {'closed' if self.closed else f'{len(self)} keys'}>"
