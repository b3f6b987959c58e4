"""Every way a call can fail, each reached through the real library where the public API can
reach it, and the result codes it cannot reach through raw calls."""

from __future__ import annotations

import pytest

import sluicegate._errors as errors
from sluicegate import (
    Breaker,
    BreakerConfig,
    Breakers,
    ClosedError,
    ConfigError,
    CostExceedsLimitError,
    FullPolicy,
    InvalidArgumentError,
    KeysExhaustedError,
    KeyTooLongError,
    LibraryPanicError,
    Limiter,
    NullArgumentError,
    Outcome,
    Result,
    SluicegateError,
    TimeBase,
    UnsupportedLibraryError,
    Window,
    WrongTimeBaseError,
    ZeroCostError,
)
from sluicegate._native import ffi, lib

MINUTE = Window(3, 60)


# --- limiter configuration


@pytest.mark.parametrize(
    ("windows", "detail"),
    [
        ((), "window"),
        ((Window(0, 60),), "limit must be at least 1"),
        ((Window(1, 60), Window(2, 60)), "window"),
        (tuple(Window(1, n + 1) for n in range(9)), "window"),
        ((Window(2**32, 60),), "limit"),
        ((Window(1, 1e-9),), "shorter than the engine's tick of 1 microsecond"),
    ],
)
def test_the_library_refuses_bad_windows_and_says_why(windows, detail):
    with pytest.raises(ConfigError, match=detail) as refused:
        Limiter(*windows)
    assert refused.value.code is Result.INVALID_CONFIG
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("settings", "detail"),
    [
        ({"shards": 3}, "shard count 3 must be a power of two"),
        ({"max_key_len": 70_000}, "max_key_len"),
    ],
)
def test_the_library_refuses_bad_limiter_settings_and_names_them(settings, detail):
    with pytest.raises(ConfigError, match=detail):
        Limiter(MINUTE, **settings)


@pytest.mark.parametrize(
    ("args", "settings", "detail"),
    [
        ((Window(1, -1),), {}, "duration must be from 0"),
        ((Window(1, float("nan")),), {}, "duration must be a finite"),
        ((Window(2**64, 60),), {}, "limit is out of range"),
        ((MINUTE,), {"max_keys": 0}, "max_keys must be above zero"),
        ((MINUTE,), {"max_keys": -1}, "max_keys is out of range"),
        ((MINUTE,), {"shards": 2**32}, "shards is out of range"),
    ],
)
def test_settings_this_package_can_judge_are_refused_before_the_library_sees_them(
    args, settings, detail
):
    with pytest.raises(ConfigError, match=detail) as refused:
        Limiter(*args, **settings)
    assert refused.value.code is None


@pytest.mark.parametrize(
    ("args", "settings", "detail"),
    [
        ((Window("3", 60),), {}, "limit is a whole number, not str"),
        ((Window(3, "60"),), {}, "duration is a number of seconds or a timedelta, not str"),
        ((Window(3.5, 60),), {}, "limit is a whole number, not float"),
        ((MINUTE,), {"max_keys": True}, "max_keys is a whole number, not bool"),
    ],
)
def test_settings_of_the_wrong_type_are_type_errors(args, settings, detail):
    with pytest.raises(TypeError, match=detail):
        Limiter(*args, **settings)


def test_unknown_enumeration_values_are_refused():
    with pytest.raises(ValueError):
        Limiter(MINUTE, time_base=7)
    with pytest.raises(ValueError):
        Limiter(MINUTE, on_full=7)


# --- checks


def test_a_zero_cost_is_refused():
    with pytest.raises(ZeroCostError) as refused:
        Limiter(MINUTE).check("k", 0)
    assert refused.value.code is Result.ZERO_COST


def test_a_cost_above_the_limit_is_refused_as_never_admissible():
    with pytest.raises(CostExceedsLimitError, match="cost 4 is above the limit 3"):
        Limiter(MINUTE).peek("k", 4)


@pytest.mark.parametrize("cost", [-1, 2**64])
def test_a_cost_out_of_range_is_an_invalid_argument(cost):
    with pytest.raises(InvalidArgumentError, match="cost must be from 1"):
        Limiter(MINUTE).check("k", cost)


@pytest.mark.parametrize("cost", [1.5, "1", None])
def test_a_cost_that_is_not_a_whole_number_is_a_type_error(cost):
    with pytest.raises(TypeError, match="cost is a whole number"):
        Limiter(MINUTE).check("k", cost)


def test_a_key_longer_than_the_maximum_is_refused():
    limiter = Limiter(MINUTE, max_key_len=4)
    limiter.check("four")
    with pytest.raises(KeyTooLongError, match="5 bytes"):
        limiter.check("fives")
    with pytest.raises(KeyTooLongError):
        limiter.check("ü" * 3)  # three characters, six bytes


@pytest.mark.parametrize("key", [42, None, ["k"]])
def test_a_key_that_is_neither_text_nor_bytes_is_a_type_error(key):
    with pytest.raises(TypeError, match="a key is a str or bytes-like object"):
        Limiter(MINUTE).check(key)


def test_a_full_limiter_that_keeps_history_refuses_new_keys():
    limiter = Limiter(MINUTE, max_keys=1, shards=1, on_full=FullPolicy.REJECT_NEW_KEYS)
    limiter.check("first")
    with pytest.raises(KeysExhaustedError):
        limiter.check("second")
    assert limiter.stats().refused_keys == 1


def test_each_time_base_refuses_the_other_kind_of_call():
    with pytest.raises(WrongTimeBaseError, match="leave now= out") as refused:
        Limiter(MINUTE).check("k", now=1.0)
    assert refused.value.code is Result.WRONG_TIME_BASE
    with pytest.raises(WrongTimeBaseError, match="pass now="):
        Limiter(MINUTE, time_base=TimeBase.CALLER).peek("k")


def test_a_caller_time_must_be_a_time():
    limiter = Limiter(MINUTE, time_base=TimeBase.CALLER)
    with pytest.raises(InvalidArgumentError, match="now must be from 0"):
        limiter.check("k", now=-1)
    with pytest.raises(TypeError, match="now is a number of seconds"):
        limiter.check("k", now="12:00")


# --- breakers


@pytest.mark.parametrize(
    ("config", "detail"),
    [
        (BreakerConfig(), "policy"),
        (BreakerConfig(consecutive_failures=70_000), "consecutive-failures threshold 70000"),
        (BreakerConfig(failure_rate_percent=50), "window"),
        (BreakerConfig(failure_rate_percent=50, count_window=10, time_window=10), "not both"),
        (BreakerConfig(consecutive_failures=1, backoff_factor=2), "backoff cap"),
        (BreakerConfig(consecutive_failures=1, jitter=1.5), "jitter"),
    ],
)
def test_the_library_refuses_bad_breaker_configurations_and_says_why(config, detail):
    with pytest.raises(ConfigError, match=detail) as refused:
        Breaker(config)
    assert refused.value.code is Result.INVALID_CONFIG
    with pytest.raises(ConfigError, match=detail):
        Breakers(config)


@pytest.mark.parametrize(
    ("config", "detail"),
    [
        (BreakerConfig(consecutive_failures=1, open_for=0), "open_for must be above zero"),
        (BreakerConfig(consecutive_failures=1, seed=0), "seed must be above zero"),
        (BreakerConfig(consecutive_failures=1, open_for=-5), "open_for must be from 0"),
        (BreakerConfig(consecutive_failures=-1), "consecutive_failures is out of range"),
    ],
)
def test_breaker_settings_this_package_can_judge_are_refused_first(config, detail):
    with pytest.raises(ConfigError, match=detail):
        Breaker(config)


def test_breaker_settings_of_the_wrong_type_are_type_errors():
    with pytest.raises(TypeError, match="consecutive_failures is a whole number"):
        Breaker(BreakerConfig(consecutive_failures=1.5))
    with pytest.raises(TypeError, match="failure_rate_percent is a number, not str"):
        Breaker(BreakerConfig(failure_rate_percent="50"))
    with pytest.raises(TypeError, match="expected a BreakerConfig"):
        Breaker({"consecutive_failures": 1})
    with pytest.raises(TypeError, match="a transition listener is callable"):
        Breaker(BreakerConfig(consecutive_failures=1), on_transition="print")


def test_a_bad_override_is_refused_and_so_is_a_bad_registry_setting():
    with pytest.raises(ConfigError, match="policy"):
        Breakers(BreakerConfig(consecutive_failures=1), overrides={"k": BreakerConfig()})
    with pytest.raises(ConfigError, match="idle_after must be above zero"):
        Breakers(BreakerConfig(consecutive_failures=1), idle_after=0)
    with pytest.raises(ConfigError, match="shard count 6"):
        Breakers(BreakerConfig(consecutive_failures=1), shards=6)


def test_an_unknown_outcome_or_a_negative_duration_leaves_the_permit_usable():
    breaker = Breaker(BreakerConfig(consecutive_failures=1))
    permit = breaker.acquire()
    with pytest.raises(InvalidArgumentError, match="outcome must be an Outcome"):
        permit.record(7)
    with pytest.raises(InvalidArgumentError, match="outcome must be an Outcome"):
        permit.record("failure")
    with pytest.raises(InvalidArgumentError, match="elapsed must be from 0"):
        permit.record(Outcome.FAILURE, elapsed=-1)
    permit.record(Outcome.FAILURE)
    assert breaker.counters().failures == 1


def test_a_permit_records_once():
    permit = Breaker(BreakerConfig(consecutive_failures=1)).acquire()
    permit.record(Outcome.SUCCESS)
    with pytest.raises(ClosedError, match="already recorded or released"):
        permit.record(Outcome.SUCCESS)
    released = Breaker(BreakerConfig(consecutive_failures=1)).acquire()
    released.release()
    with pytest.raises(ClosedError):
        released.record(Outcome.FAILURE)


def test_registry_keys_have_a_maximum_length():
    hosts = Breakers(BreakerConfig(consecutive_failures=1), max_key_len=4)
    with pytest.raises(KeyTooLongError):
        hosts.acquire("longer")
    with pytest.raises(KeyTooLongError):
        hosts.force_open("longer")


# --- closed handles


def test_every_call_on_a_closed_handle_says_it_is_closed():
    limiter = Limiter(MINUTE)
    breaker = Breaker(BreakerConfig(consecutive_failures=1))
    hosts = Breakers(BreakerConfig(consecutive_failures=1))
    calls = [
        lambda: limiter.check("k"),
        lambda: limiter.peek("k"),
        lambda: limiter.reset("k"),
        lambda: limiter.remove("k"),
        lambda: len(limiter),
        limiter.stats,
        breaker.acquire,
        breaker.state,
        breaker.counters,
        breaker.force_open,
        breaker.disable,
        breaker.reset,
        lambda: hosts.acquire("k"),
        lambda: hosts.state("k"),
        lambda: hosts.counters("k"),
        lambda: hosts.force_open("k"),
        lambda: hosts.disable("k"),
        lambda: hosts.reset("k"),
        lambda: hosts.remove("k"),
        lambda: len(hosts),
        hosts.stats,
    ]
    for handle in (limiter, breaker, hosts):
        handle.close()
        handle.close()  # a second close does nothing
        assert handle.closed
        with pytest.raises(ClosedError), handle:
            pass
    for call in calls:
        with pytest.raises(ClosedError, match="is closed"):
            call()


# --- result codes the public API never produces, reached through raw calls


def test_a_null_argument_is_reported_with_the_library_detail():
    out = ffi.new("size_t *")
    code = lib.sg_limiter_len(ffi.NULL, out)
    error = errors.error_for(code)
    assert isinstance(error, NullArgumentError)
    assert error.code is Result.NULL_ARGUMENT
    assert "limiter" in str(error)


def test_a_config_struct_of_an_unknown_size_means_the_library_does_not_match():
    config = ffi.new("sg_limiter_config *")
    config.struct_size = 4
    error = errors.error_for(lib.sg_limiter_new(config, ffi.new("sg_limiter **")))
    assert isinstance(error, UnsupportedLibraryError)
    assert "struct_size is 4" in str(error)


def test_an_unknown_outcome_number_is_an_invalid_argument_to_the_library():
    breaker = Breaker(BreakerConfig(consecutive_failures=1))
    admission = ffi.new("sg_admission *")
    assert lib.sg_breaker_acquire(breaker._handle, admission) == Result.OK
    error = errors.error_for(lib.sg_permit_record(admission.permit, 7, 0))
    assert isinstance(error, InvalidArgumentError)
    assert error.code is Result.INVALID_ARGUMENT
    assert breaker.counters().ignored == 1  # the library released it as unreported


def test_every_failure_code_has_its_exception_class():
    expected = {
        Result.NULL_ARGUMENT: NullArgumentError,
        Result.INVALID_CONFIG: ConfigError,
        Result.UNSUPPORTED_STRUCT_SIZE: UnsupportedLibraryError,
        Result.ZERO_COST: ZeroCostError,
        Result.COST_EXCEEDS_LIMIT: CostExceedsLimitError,
        Result.KEY_TOO_LONG: KeyTooLongError,
        Result.KEYS_EXHAUSTED: KeysExhaustedError,
        Result.INVALID_ARGUMENT: InvalidArgumentError,
        Result.PANIC: LibraryPanicError,
        Result.WRONG_TIME_BASE: WrongTimeBaseError,
    }
    for code, cls in expected.items():
        error = errors.error_for(code)
        assert type(error) is cls and error.code is code
        assert str(error).startswith(errors.result_message(code))
    unknown = errors.error_for(999)
    assert type(unknown) is SluicegateError and "unknown result code" in str(unknown)


def test_a_detail_longer_than_the_first_buffer_is_read_whole(monkeypatch):
    with pytest.raises(ConfigError) as refused:
        Limiter(Window(0, 60))
    whole = errors.last_error()
    assert whole and whole in str(refused.value)
    monkeypatch.setattr(errors, "_DETAIL_BUFFER", 8)
    assert errors.last_error() == whole
