/*
 * api.c: every function of sluicegate.h from C, every result code it can return, and the
 * promises the header makes: outputs untouched on failure, permits outliving their breaker,
 * listeners called with their userdata, configs read by struct_size.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <time.h>

#include "check.h"

static const uint8_t KEY[] = "203.0.113.7";
#define KEY_LEN (sizeof KEY - 1)

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static sg_limiter_config limiter_config(const sg_window *windows, size_t n, uint32_t time_base)
{
    sg_limiter_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.time_base = time_base;
    config.windows = windows;
    config.windows_len = n;
    return config;
}

static sg_breaker_config breaker_config(void)
{
    sg_breaker_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    return config;
}

/* The library's strings. */
static void test_strings(void)
{
    char detail[64];
    size_t len = 99;
    CHECK(strcmp(sg_version(), "0.1.0") == 0);
    CHECK(strcmp(sg_result_message(SG_OK), "ok") == 0);
    CHECK(strcmp(sg_result_message(SG_PANIC), "the library panicked; the panic was caught") == 0);
    CHECK(strcmp(sg_result_message(4242), "unknown result code") == 0);
    for (uint32_t code = SG_OK; code <= SG_WRONG_TIME_BASE; code++) {
        CHECK(strcmp(sg_result_message(code), "unknown result code") != 0);
    }

    /* sg_last_error copies as snprintf does, and needs out_len. */
    sg_limiter *limiter = NULL;
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_new(NULL, &limiter));
    EXPECT_OK(sg_last_error(NULL, 0, &len));
    CHECK(len == strlen("argument `config` is NULL"));
    EXPECT_OK(sg_last_error(detail, 9, &len));
    CHECK(strcmp(detail, "argument") == 0);
    EXPECT(SG_NULL_ARGUMENT, sg_last_error(detail, sizeof detail, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_last_error(NULL, 4, &len));
}

/* Decisions match the Rust API's, in the caller's time base. */
static void test_limiter_decisions(void)
{
    const sg_window windows[] = {{10, 1000000}, {2, 60000000}};
    sg_limiter_config config = limiter_config(windows, 2, SG_TIME_BASE_CALLER);
    sg_limiter *limiter = NULL;
    sg_decision d;
    EXPECT_OK(sg_limiter_new(&config, &limiter));
    CHECK(limiter != NULL);

    EXPECT_OK(sg_limiter_check_now(limiter, KEY, KEY_LEN, 1, 0, &d));
    CHECK(d.allowed && d.window == 1 && d.limit == 2 && d.remaining == 1);
    CHECK(d.reset_after_us == 60000000 && d.retry_after_us == 0);

    /* A peek reports what a check would, and records nothing. */
    EXPECT_OK(sg_limiter_peek_now(limiter, KEY, KEY_LEN, 1, 1000, &d));
    CHECK(d.allowed && d.remaining == 0);
    EXPECT_OK(sg_limiter_check_now(limiter, KEY, KEY_LEN, 1, 1000, &d));
    CHECK(d.allowed && d.remaining == 0);

    /* The third in the minute is rejected until the first leaves the window. */
    EXPECT_OK(sg_limiter_check_now(limiter, KEY, KEY_LEN, 1, 2000, &d));
    CHECK(!d.allowed && d.window == 1 && d.remaining == 0);
    CHECK(d.retry_after_us == 59998000);
    EXPECT_OK(sg_limiter_check_now(limiter, KEY, KEY_LEN, 1, 59999999, &d));
    CHECK(!d.allowed && d.retry_after_us == 1);
    EXPECT_OK(sg_limiter_check_now(limiter, KEY, KEY_LEN, 1, 60000000, &d));
    CHECK(d.allowed);

    /* Keys are independent; the empty key is a key; a time going back counts as the latest. */
    EXPECT_OK(sg_limiter_check_now(limiter, (const uint8_t *)"other", 5, 2, 5, &d));
    CHECK(d.allowed && d.remaining == 0);
    EXPECT_OK(sg_limiter_check_now(limiter, NULL, 0, 1, 0, &d));
    CHECK(d.allowed && d.remaining == 1);

    size_t len = 0;
    bool tracked = false;
    EXPECT_OK(sg_limiter_len(limiter, &len));
    CHECK(len == 3);
    EXPECT_OK(sg_limiter_reset(limiter, (const uint8_t *)"other", 5, &tracked));
    CHECK(tracked);
    EXPECT_OK(sg_limiter_check_now(limiter, (const uint8_t *)"other", 5, 2, 60000001, &d));
    CHECK(d.allowed);
    EXPECT_OK(sg_limiter_remove(limiter, (const uint8_t *)"other", 5, &tracked));
    CHECK(tracked);
    EXPECT_OK(sg_limiter_remove(limiter, (const uint8_t *)"other", 5, &tracked));
    CHECK(!tracked);
    EXPECT_OK(sg_limiter_reset(limiter, (const uint8_t *)"never", 5, &tracked));
    CHECK(!tracked);

    sg_limiter_stats stats;
    EXPECT_OK(sg_limiter_get_stats(limiter, &stats));
    CHECK(stats.keys == 2 && stats.allowed == 6 && stats.rejected == 2);
    CHECK(stats.evictions == 0 && stats.refused_keys == 0 && stats.bytes > 0);

    /* This limiter takes the caller's time; calls that read the library's clock are refused. */
    d.allowed = true;
    EXPECT(SG_WRONG_TIME_BASE, sg_limiter_check(limiter, KEY, KEY_LEN, 1, &d));
    EXPECT(SG_WRONG_TIME_BASE, sg_limiter_peek(limiter, KEY, KEY_LEN, 1, &d));
    CHECK(d.allowed); /* untouched */
    sg_limiter_free(limiter);
}

/* The library's clock, and every way a check can fail. */
static void test_limiter_errors(void)
{
    const sg_window windows[] = {{3, 60000000}};
    sg_limiter_config config = limiter_config(windows, 1, SG_TIME_BASE_LIBRARY);
    config.max_key_len = 4;
    config.max_keys = 1;
    config.shards = 1;
    config.on_full = SG_FULL_REJECT_NEW_KEYS;
    sg_limiter *limiter = NULL;
    sg_decision d;
    EXPECT_OK(sg_limiter_new(&config, &limiter));

    EXPECT_OK(sg_limiter_peek(limiter, (const uint8_t *)"a", 1, 3, &d));
    CHECK(d.allowed && d.remaining == 0);
    EXPECT_OK(sg_limiter_check(limiter, (const uint8_t *)"a", 1, 3, &d));
    CHECK(d.allowed && d.remaining == 0 && d.reset_after_us > 59000000);
    EXPECT_OK(sg_limiter_check(limiter, (const uint8_t *)"a", 1, 1, &d));
    CHECK(!d.allowed && d.retry_after_us > 59000000);
    EXPECT(SG_WRONG_TIME_BASE, sg_limiter_check_now(limiter, KEY, 1, 1, 0, &d));
    EXPECT(SG_WRONG_TIME_BASE, sg_limiter_peek_now(limiter, KEY, 1, 1, 0, &d));

    memset(&d, 0x5a, sizeof d);
    sg_decision untouched = d;
    EXPECT(SG_ZERO_COST, sg_limiter_check(limiter, (const uint8_t *)"a", 1, 0, &d));
    EXPECT(SG_COST_EXCEEDS_LIMIT, sg_limiter_check(limiter, (const uint8_t *)"a", 1, 4, &d));
    EXPECT(SG_KEY_TOO_LONG, sg_limiter_check(limiter, (const uint8_t *)"abcde", 5, 1, &d));
    EXPECT(SG_KEYS_EXHAUSTED, sg_limiter_check(limiter, (const uint8_t *)"b", 1, 1, &d));
    CHECK(memcmp(&d, &untouched, sizeof d) == 0);

    char detail[256];
    size_t len = 0;
    EXPECT(SG_COST_EXCEEDS_LIMIT, sg_limiter_peek(limiter, (const uint8_t *)"a", 1, 9, &d));
    EXPECT_OK(sg_last_error(detail, sizeof detail, &len));
    CHECK(strcmp(detail, "cost 9 is above the limit 3 of a window, so it can never be admitted") == 0);

    sg_limiter_stats stats;
    EXPECT_OK(sg_limiter_get_stats(limiter, &stats));
    CHECK(stats.refused_keys == 1);
    sg_limiter_free(limiter);
}

/* Configurations the library refuses, each with its reason. */
static void test_limiter_config(void)
{
    sg_window windows[] = {{0, 1000000}};
    sg_limiter_config config = limiter_config(windows, 1, SG_TIME_BASE_LIBRARY);
    sg_limiter *limiter = (sg_limiter *)&config; /* a sentinel: must stay as it is */
    char detail[256];
    size_t len = 0;

    EXPECT(SG_INVALID_CONFIG, sg_limiter_new(&config, &limiter));
    EXPECT_OK(sg_last_error(detail, sizeof detail, &len));
    CHECK(strcmp(detail, "window 0: the limit must be at least 1") == 0);
    windows[0].limit = 5;

    config.windows_len = 0;
    EXPECT(SG_INVALID_CONFIG, sg_limiter_new(&config, &limiter));
    config.windows_len = 9;
    EXPECT(SG_INVALID_CONFIG, sg_limiter_new(&config, &limiter));
    config.windows_len = 1;
    config.time_base = 7;
    EXPECT(SG_INVALID_CONFIG, sg_limiter_new(&config, &limiter));
    config.time_base = SG_TIME_BASE_LIBRARY;
    config.on_full = 9;
    EXPECT(SG_INVALID_CONFIG, sg_limiter_new(&config, &limiter));
    config.on_full = SG_FULL_EVICT_LEAST_RECENT;
    config.shards = 3;
    EXPECT(SG_INVALID_CONFIG, sg_limiter_new(&config, &limiter));
    EXPECT_OK(sg_last_error(detail, sizeof detail, &len));
    CHECK(strstr(detail, "power of two") != NULL);
    config.shards = 0;
    config.windows = NULL;
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_new(&config, &limiter));

    /* A windows array that is not aligned for sg_window. */
    uint64_t storage[5] = {0};
    config.windows = (const sg_window *)(const void *)((const char *)storage + 4);
    EXPECT(SG_INVALID_ARGUMENT, sg_limiter_new(&config, &limiter));
    CHECK(limiter == (sg_limiter *)&config);
}

/* struct_size: too small is refused; larger is accepted only while the unknown tail is zero. */
static void test_struct_size(void)
{
    const sg_window windows[] = {{5, 1000000}};
    struct {
        sg_limiter_config config;
        uint64_t newer_field;
    } grown;
    memset(&grown, 0, sizeof grown);
    grown.config = limiter_config(windows, 1, SG_TIME_BASE_LIBRARY);
    sg_limiter *limiter = NULL;

    grown.config.struct_size = 0;
    EXPECT(SG_UNSUPPORTED_STRUCT_SIZE, sg_limiter_new(&grown.config, &limiter));
    grown.config.struct_size = sizeof grown.config - 8;
    EXPECT(SG_UNSUPPORTED_STRUCT_SIZE, sg_limiter_new(&grown.config, &limiter));
    grown.config.struct_size = 1u << 20;
    EXPECT(SG_UNSUPPORTED_STRUCT_SIZE, sg_limiter_new(&grown.config, &limiter));

    grown.config.struct_size = sizeof grown;
    EXPECT_OK(sg_limiter_new(&grown.config, &limiter));
    sg_limiter_free(limiter);
    grown.newer_field = 1;
    EXPECT(SG_UNSUPPORTED_STRUCT_SIZE, sg_limiter_new(&grown.config, &limiter));

    sg_breaker_config bc = breaker_config();
    bc.consecutive_failures = 1;
    bc.struct_size = 8;
    sg_breaker *breaker = NULL;
    EXPECT(SG_UNSUPPORTED_STRUCT_SIZE, sg_breaker_new(&bc, NULL, NULL, &breaker));
    sg_breakers_config rc;
    memset(&rc, 0, sizeof rc);
    rc.struct_size = 4;
    rc.breaker = &bc;
    sg_breakers *breakers = NULL;
    EXPECT(SG_UNSUPPORTED_STRUCT_SIZE, sg_breakers_new(&rc, NULL, NULL, &breakers));
    rc.struct_size = sizeof rc;
    EXPECT(SG_UNSUPPORTED_STRUCT_SIZE, sg_breakers_new(&rc, NULL, NULL, &breakers));
}

/* What a listener saw. */
struct seen {
    int calls;
    sg_transition last;
    uint8_t key[16];
    size_t key_len;
};

static void on_transition(void *userdata, const sg_transition *t)
{
    struct seen *seen = userdata;
    seen->calls++;
    seen->last = *t;
}

static void on_keyed_transition(void *userdata, const uint8_t *key, size_t key_len,
                                const sg_transition *t)
{
    struct seen *seen = userdata;
    on_transition(seen, t);
    seen->key_len = key_len < sizeof seen->key ? key_len : sizeof seen->key;
    memcpy(seen->key, key, seen->key_len);
}

/* A breaker through its states, with its listener, counters and stale outcomes. */
static void test_breaker(void)
{
    sg_breaker_config config = breaker_config();
    config.consecutive_failures = 2;
    config.open_for_us = 2000;
    config.seed = 7;
    struct seen seen = {0};
    sg_breaker *breaker = NULL;
    sg_admission a;
    sg_state state;
    bool changed = false;
    EXPECT_OK(sg_breaker_new(&config, on_transition, &seen, &breaker));

    for (int i = 0; i < 2; i++) {
        EXPECT_OK(sg_breaker_acquire(breaker, &a));
        CHECK(a.permit != NULL && a.reject_reason == SG_REJECT_NONE && a.retry_after_us == 0);
        EXPECT_OK(sg_permit_record(a.permit, SG_OUTCOME_FAILURE, 1500));
    }
    EXPECT_OK(sg_breaker_get_state(breaker, &state));
    CHECK(state == SG_STATE_OPEN);
    CHECK(seen.calls == 1 && seen.last.from == SG_STATE_CLOSED && seen.last.to == SG_STATE_OPEN);
    CHECK(seen.last.cause == SG_CAUSE_CONSECUTIVE_FAILURES && seen.last.generation == 1);

    EXPECT_OK(sg_breaker_acquire(breaker, &a));
    CHECK(a.permit == NULL && a.reject_reason == SG_REJECT_OPEN);
    CHECK(a.retry_after_us > 0 && a.retry_after_us <= 2000);

    /* After the open time the next call is the half-open trial; its success closes. */
    sleep_us(3000);
    EXPECT_OK(sg_breaker_acquire(breaker, &a));
    CHECK(a.permit != NULL);
    CHECK(seen.last.to == SG_STATE_HALF_OPEN && seen.last.cause == SG_CAUSE_OPEN_ELAPSED);
    sg_admission second;
    EXPECT_OK(sg_breaker_acquire(breaker, &second));
    CHECK(second.permit == NULL && second.reject_reason == SG_REJECT_HALF_OPEN_FULL);
    EXPECT_OK(sg_permit_record(a.permit, SG_OUTCOME_SUCCESS, 10));
    CHECK(seen.last.to == SG_STATE_CLOSED && seen.last.cause == SG_CAUSE_TRIALS_SUCCEEDED);

    /* An outcome reported after a transition is stale. */
    EXPECT_OK(sg_breaker_acquire(breaker, &a));
    EXPECT_OK(sg_breaker_reset(breaker));
    CHECK(seen.last.cause == SG_CAUSE_RESET);
    EXPECT(SG_STALE_OUTCOME, sg_permit_record(a.permit, SG_OUTCOME_FAILURE, 10));

    /* Operator switches. */
    EXPECT_OK(sg_breaker_force_open(breaker, &changed));
    CHECK(changed && seen.last.cause == SG_CAUSE_FORCED);
    EXPECT_OK(sg_breaker_force_open(breaker, &changed));
    CHECK(!changed);
    EXPECT_OK(sg_breaker_acquire(breaker, &a));
    CHECK(a.permit == NULL && a.reject_reason == SG_REJECT_FORCED_OPEN);
    CHECK(a.retry_after_us == UINT64_MAX);
    EXPECT_OK(sg_breaker_disable(breaker, &changed));
    CHECK(changed && seen.last.to == SG_STATE_DISABLED && seen.last.cause == SG_CAUSE_DISABLED);
    EXPECT_OK(sg_breaker_disable(breaker, &changed));
    CHECK(!changed);
    EXPECT_OK(sg_breaker_get_state(breaker, &state));
    CHECK(state == SG_STATE_DISABLED);

    /* An unknown outcome is refused and still consumes the permit, as ignored. */
    EXPECT_OK(sg_breaker_acquire(breaker, &a));
    EXPECT(SG_INVALID_ARGUMENT, sg_permit_record(a.permit, 3, 0));
    EXPECT_OK(sg_breaker_acquire(breaker, &a));
    EXPECT_OK(sg_permit_record(a.permit, SG_OUTCOME_IGNORED, 0));
    EXPECT_OK(sg_breaker_acquire(breaker, &a));
    sg_permit_free(a.permit);
    sg_permit_free(NULL);

    sg_breaker_counters c;
    EXPECT_OK(sg_breaker_get_counters(breaker, &c));
    CHECK(c.permitted == 7 && c.rejected == 3);
    CHECK(c.successes == 1 && c.failures == 2 && c.ignored == 3 && c.stale == 1);
    CHECK(c.permitted == c.successes + c.failures + c.ignored + c.stale);
    CHECK(c.slow == 0 && c.trial_timeouts == 0);
    CHECK(seen.calls == 6 && seen.last.generation == 6);

    /* A permit keeps its breaker alive past sg_breaker_free. */
    EXPECT_OK(sg_breaker_acquire(breaker, &a));
    sg_breaker_free(breaker);
    EXPECT_OK(sg_permit_record(a.permit, SG_OUTCOME_SUCCESS, 5));
    sg_breaker_free(NULL);
}

/* Breaker configurations the library refuses. */
static void test_breaker_config(void)
{
    sg_breaker *breaker = NULL;
    char detail[256];
    size_t len = 0;
    sg_breaker_config config = breaker_config();

    EXPECT(SG_INVALID_CONFIG, sg_breaker_new(&config, NULL, NULL, &breaker));
    EXPECT_OK(sg_last_error(detail, sizeof detail, &len));
    CHECK(strncmp(detail, "a breaker needs at least one trip policy", 40) == 0);

    config.failure_rate_percent = 50;
    EXPECT(SG_INVALID_CONFIG, sg_breaker_new(&config, NULL, NULL, &breaker));
    config.count_window = 10;
    config.time_window_us = 1000000;
    EXPECT(SG_INVALID_CONFIG, sg_breaker_new(&config, NULL, NULL, &breaker));
    config.count_window = 0;
    config.time_window_buckets = 3; /* 1 s does not split into 3 whole microsecond buckets */
    EXPECT(SG_INVALID_CONFIG, sg_breaker_new(&config, NULL, NULL, &breaker));
    config.time_window_buckets = 0;
    config.failure_rate_percent = 150;
    EXPECT(SG_INVALID_CONFIG, sg_breaker_new(&config, NULL, NULL, &breaker));
    config.failure_rate_percent = 50;
    config.backoff_factor = 2;
    EXPECT(SG_INVALID_CONFIG, sg_breaker_new(&config, NULL, NULL, &breaker));
    EXPECT_OK(sg_last_error(detail, sizeof detail, &len));
    CHECK(strstr(detail, "backoff cap") != NULL);
    config.backoff_max_us = 60000000;
    config.lanes = 3;
    EXPECT(SG_INVALID_CONFIG, sg_breaker_new(&config, NULL, NULL, &breaker));
    config.lanes = 0;
    config.slow_call_threshold_us = 100;
    EXPECT(SG_INVALID_CONFIG, sg_breaker_new(&config, NULL, NULL, &breaker));
    config.slow_call_rate_percent = 80;
    config.jitter = 0.1;
    config.min_calls = 5;
    config.half_open_permits = 2;
    config.half_open_successes = 4;
    config.half_open_failure_rate_percent = 50;
    config.trial_timeout_us = 5000000;
    EXPECT_OK(sg_breaker_new(&config, NULL, NULL, &breaker));
    sg_breaker_free(breaker);
}

/* The registry: breakers by key, overrides, keyed listener, limits. */
static void test_registry(void)
{
    sg_breaker_config shared = breaker_config();
    shared.consecutive_failures = 3;
    sg_breaker_config strict = breaker_config();
    strict.consecutive_failures = 1;
    const sg_breaker_override overrides[] = {{(const uint8_t *)"payments", 8, &strict}};
    sg_breakers_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    config.breaker = &shared;
    config.overrides = overrides;
    config.overrides_len = 1;
    config.shards = 1;
    config.max_keys = 2;
    config.max_key_len = 16;
    struct seen seen = {0};
    sg_breakers *breakers = NULL;
    sg_admission a;
    sg_state state;
    bool flag = false;
    size_t len = 0;
    EXPECT_OK(sg_breakers_new(&config, on_keyed_transition, &seen, &breakers));

    EXPECT_OK(sg_breakers_acquire(breakers, (const uint8_t *)"payments", 8, &a));
    CHECK(a.permit != NULL);
    EXPECT_OK(sg_permit_record(a.permit, SG_OUTCOME_FAILURE, 100));
    EXPECT_OK(sg_breakers_get_state(breakers, (const uint8_t *)"payments", 8, &state));
    CHECK(state == SG_STATE_OPEN);
    CHECK(seen.calls == 1 && seen.key_len == 8 && memcmp(seen.key, "payments", 8) == 0);
    EXPECT_OK(sg_breakers_acquire(breakers, (const uint8_t *)"payments", 8, &a));
    CHECK(a.permit == NULL && a.reject_reason == SG_REJECT_OPEN);

    /* The shared configuration needs three failures. */
    EXPECT_OK(sg_breakers_acquire(breakers, (const uint8_t *)"search", 6, &a));
    EXPECT_OK(sg_permit_record(a.permit, SG_OUTCOME_FAILURE, 100));
    EXPECT_OK(sg_breakers_get_state(breakers, (const uint8_t *)"search", 6, &state));
    CHECK(state == SG_STATE_CLOSED);

    /* Full: a third key is refused; too long a key is refused. */
    sg_admission untouched = {NULL, SG_REJECT_OPEN, 42};
    a = untouched;
    EXPECT(SG_KEYS_EXHAUSTED, sg_breakers_acquire(breakers, (const uint8_t *)"users", 5, &a));
    EXPECT(SG_KEY_TOO_LONG, sg_breakers_acquire(breakers, (const uint8_t *)"a-very-long-host-name", 21, &a));
    CHECK(a.permit == NULL && a.retry_after_us == 42);
    EXPECT(SG_KEYS_EXHAUSTED, sg_breakers_force_open(breakers, (const uint8_t *)"users", 5, &flag));
    EXPECT(SG_KEY_TOO_LONG, sg_breakers_disable(breakers, (const uint8_t *)"a-very-long-host-name", 21, &flag));

    /* Unknown keys read as closed and zero, and reading creates nothing. */
    sg_breaker_counters c;
    EXPECT_OK(sg_breakers_get_state(breakers, (const uint8_t *)"users", 5, &state));
    CHECK(state == SG_STATE_CLOSED);
    EXPECT_OK(sg_breakers_get_counters(breakers, (const uint8_t *)"users", 5, &c));
    CHECK(c.permitted == 0 && c.failures == 0);
    EXPECT_OK(sg_breakers_get_counters(breakers, (const uint8_t *)"payments", 8, &c));
    CHECK(c.permitted == 1 && c.failures == 1 && c.rejected == 1);
    EXPECT_OK(sg_breakers_len(breakers, &len));
    CHECK(len == 2);

    /* Operator switches by key. */
    EXPECT_OK(sg_breakers_force_open(breakers, (const uint8_t *)"search", 6, &flag));
    CHECK(flag);
    EXPECT_OK(sg_breakers_acquire(breakers, (const uint8_t *)"search", 6, &a));
    CHECK(a.reject_reason == SG_REJECT_FORCED_OPEN && a.retry_after_us == UINT64_MAX);
    EXPECT_OK(sg_breakers_disable(breakers, (const uint8_t *)"search", 6, &flag));
    CHECK(flag);
    EXPECT_OK(sg_breakers_reset(breakers, (const uint8_t *)"search", 6, &flag));
    CHECK(flag && seen.last.cause == SG_CAUSE_RESET);
    EXPECT_OK(sg_breakers_reset(breakers, (const uint8_t *)"users", 5, &flag));
    CHECK(!flag);

    /* Removing a key frees its place; a permit outlives both removal and the registry. */
    EXPECT_OK(sg_breakers_acquire(breakers, (const uint8_t *)"search", 6, &a));
    EXPECT_OK(sg_breakers_remove(breakers, (const uint8_t *)"search", 6, &flag));
    CHECK(flag);
    EXPECT_OK(sg_breakers_remove(breakers, (const uint8_t *)"search", 6, &flag));
    CHECK(!flag);
    sg_admission users;
    EXPECT_OK(sg_breakers_acquire(breakers, (const uint8_t *)"users", 5, &users));
    CHECK(users.permit != NULL);

    sg_breakers_stats stats;
    EXPECT_OK(sg_breakers_get_stats(breakers, &stats));
    CHECK(stats.keys == 2 && stats.refused == 2 && stats.bytes > 0);
    sg_breakers_free(breakers);
    EXPECT_OK(sg_permit_record(a.permit, SG_OUTCOME_SUCCESS, 1));
    sg_permit_free(users.permit);
    sg_breakers_free(NULL);

    /* Bad overrides are named. */
    char detail[256];
    strict.consecutive_failures = 0;
    EXPECT(SG_INVALID_CONFIG, sg_breakers_new(&config, NULL, NULL, &breakers));
    EXPECT_OK(sg_last_error(detail, sizeof detail, &len));
    CHECK(strncmp(detail, "override 0 (key \"payments\"): a breaker needs", 44) == 0);
    config.breaker = NULL;
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_new(&config, NULL, NULL, &breakers));
}

/* Every pointer argument, NULL: a clear code, never a crash. */
static void test_null_arguments(void)
{
    const sg_window windows[] = {{5, 1000000}};
    sg_limiter_config lc = limiter_config(windows, 1, SG_TIME_BASE_LIBRARY);
    sg_breaker_config bc = breaker_config();
    bc.consecutive_failures = 1;
    sg_breakers_config rc;
    memset(&rc, 0, sizeof rc);
    rc.struct_size = sizeof rc;
    rc.breaker = &bc;
    sg_limiter *l = NULL;
    sg_breaker *b = NULL;
    sg_breakers *r = NULL;
    EXPECT_OK(sg_limiter_new(&lc, &l));
    EXPECT_OK(sg_breaker_new(&bc, NULL, NULL, &b));
    EXPECT_OK(sg_breakers_new(&rc, NULL, NULL, &r));
    sg_decision d;
    sg_admission a;
    sg_state state;
    sg_breaker_counters counters;
    sg_limiter_stats lstats;
    sg_breakers_stats rstats;
    size_t len;
    bool flag;

    EXPECT(SG_NULL_ARGUMENT, sg_limiter_new(&lc, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_check(NULL, KEY, KEY_LEN, 1, &d));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_check(l, NULL, KEY_LEN, 1, &d));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_check(l, KEY, KEY_LEN, 1, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_peek(NULL, KEY, KEY_LEN, 1, &d));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_check_now(NULL, KEY, KEY_LEN, 1, 0, &d));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_peek_now(l, KEY, KEY_LEN, 1, 0, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_reset(NULL, KEY, KEY_LEN, &flag));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_reset(l, KEY, KEY_LEN, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_remove(l, NULL, 1, &flag));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_len(NULL, &len));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_len(l, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_get_stats(NULL, &lstats));
    EXPECT(SG_NULL_ARGUMENT, sg_limiter_get_stats(l, NULL));

    EXPECT(SG_NULL_ARGUMENT, sg_breaker_new(NULL, NULL, NULL, &b));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_new(&bc, NULL, NULL, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_acquire(NULL, &a));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_acquire(b, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_get_state(NULL, &state));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_get_state(b, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_get_counters(NULL, &counters));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_get_counters(b, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_force_open(NULL, &flag));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_force_open(b, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_disable(NULL, &flag));
    EXPECT(SG_NULL_ARGUMENT, sg_breaker_reset(NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_permit_record(NULL, SG_OUTCOME_SUCCESS, 0));

    EXPECT(SG_NULL_ARGUMENT, sg_breakers_new(NULL, NULL, NULL, &r));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_new(&rc, NULL, NULL, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_acquire(NULL, KEY, KEY_LEN, &a));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_acquire(r, NULL, KEY_LEN, &a));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_acquire(r, KEY, KEY_LEN, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_get_state(r, KEY, KEY_LEN, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_get_counters(NULL, KEY, KEY_LEN, &counters));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_force_open(r, KEY, KEY_LEN, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_disable(NULL, KEY, KEY_LEN, &flag));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_reset(r, NULL, 3, &flag));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_remove(r, KEY, KEY_LEN, NULL));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_len(NULL, &len));
    EXPECT(SG_NULL_ARGUMENT, sg_breakers_get_stats(r, NULL));

    /* Nothing above created a key or a breaker. */
    EXPECT_OK(sg_limiter_len(l, &len));
    CHECK(len == 0);
    EXPECT_OK(sg_breakers_len(r, &len));
    CHECK(len == 0);
    EXPECT_OK(sg_breakers_get_stats(r, &rstats));
    CHECK(rstats.keys == 0);
    sg_limiter_free(l);
    sg_breaker_free(b);
    sg_breakers_free(r);
}

int main(void)
{
    test_strings();
    test_limiter_decisions();
    test_limiter_errors();
    test_limiter_config();
    test_struct_size();
    test_breaker();
    test_breaker_config();
    test_registry();
    test_null_arguments();

    /* Every code is reachable from C except SG_PANIC, which needs a bug in the library to
     * happen; the Rust unit tests drive the panic boundary directly. */
    for (uint32_t code = SG_OK; code <= SG_WRONG_TIME_BASE; code++) {
        if (code != SG_PANIC && !results_seen[code]) {
            fprintf(stderr, "no check returned %s\n", sg_result_message(code));
            checks_failed++;
        }
    }
    return finish("api");
}
