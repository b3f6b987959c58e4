/*
 * breaker.c: sg_breaker and sg_permit for JavaScript.
 */
#include <string.h>

#include "addon.h"

/* sg_breaker_config's whole-number fields and their largest values. */
#define BREAKER_WHOLE_FIELDS(X)                                                                \
    X(consecutive_failures, UINT32_MAX)                                                        \
    X(slow_call_threshold_us, MAX_WHOLE)                                                       \
    X(count_window, UINT32_MAX)                                                                \
    X(time_window_buckets, UINT32_MAX)                                                         \
    X(time_window_us, MAX_WHOLE)                                                               \
    X(min_calls, UINT32_MAX)                                                                   \
    X(half_open_permits, UINT32_MAX)                                                           \
    X(open_for_us, MAX_WHOLE)                                                                  \
    X(backoff_max_us, MAX_WHOLE)                                                               \
    X(half_open_successes, UINT32_MAX)                                                         \
    X(lanes, UINT32_MAX)                                                                       \
    X(trial_timeout_us, MAX_WHOLE)                                                             \
    X(seed, MAX_WHOLE)

/* sg_breaker_config's fractional fields. */
#define BREAKER_NUMBER_FIELDS(X)                                                               \
    X(failure_rate_percent)                                                                    \
    X(slow_call_rate_percent)                                                                  \
    X(backoff_factor)                                                                          \
    X(jitter)                                                                                  \
    X(half_open_failure_rate_percent)

bool breaker_config_from(napi_env env, napi_value object, sg_breaker_config *config)
{
    memset(config, 0, sizeof *config);
    config->struct_size = sizeof *config;
    uint64_t whole = 0;
#define READ_WHOLE(field, max)                                                                 \
    if (!get_whole_field(env, object, #field, max, &whole)) {                                  \
        return false;                                                                          \
    }                                                                                          \
    config->field = (__typeof__(config->field))whole;
    BREAKER_WHOLE_FIELDS(READ_WHOLE)
#undef READ_WHOLE
#define READ_NUMBER(field)                                                                     \
    if (!get_number_field(env, object, #field, &config->field)) {                              \
        return false;                                                                          \
    }
    BREAKER_NUMBER_FIELDS(READ_NUMBER)
#undef READ_NUMBER
    return true;
}

/* breakerNew(config, listener): a breaker, or the result code it was refused with. `config`
 * holds sg_breaker_config's fields by name; `listener` is one made by listenerNew, or null. */
static napi_value breaker_new(napi_env env, napi_callback_info info)
{
    napi_value argv[2];
    sg_breaker_config config;
    void *listener = NULL;
    if (!require_library(env) || !get_args(env, info, 2, argv, NULL) ||
        !breaker_config_from(env, argv[0], &config) || !get_listener(env, argv[1], &listener)) {
        return NULL;
    }
    sg_breaker *breaker = NULL;
    sg_result result = sg.breaker_new(&config, listener == NULL ? NULL : deliver_transition,
                                      listener, &breaker);
    if (result != SG_OK) {
        return result_value(env, result);
    }
    napi_value handle = handle_value(env, breaker);
    if (handle == NULL) {
        sg.breaker_free(breaker);
    }
    return handle;
}

/* breakerFree(breaker). */
static napi_value breaker_free(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    sg_breaker *breaker;
    if (get_args(env, info, 1, argv, NULL) && (breaker = get_handle(env, argv[0])) != NULL) {
        sg.breaker_free(breaker);
    }
    return NULL;
}

/* The breaker in a function's one argument, or NULL after throwing. */
static sg_breaker *breaker_arg(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    return get_args(env, info, 1, argv, NULL) ? get_handle(env, argv[0]) : NULL;
}

/* breakerAcquire(breaker): a permit, null when rejected (out[0] the reason, out[1] the wait
 * in microseconds, Infinity when only an operator can end it), or a result code. */
static napi_value breaker_acquire(napi_env env, napi_callback_info info)
{
    sg_breaker *breaker = breaker_arg(env, info);
    if (breaker == NULL) {
        return NULL;
    }
    sg_admission admission;
    sg_result result = sg.breaker_acquire(breaker, &admission);
    return result == SG_OK ? admission_value(env, &admission) : result_value(env, result);
}

/* breakerState(breaker): the result code, and the sg_state in out[0]. */
static napi_value breaker_state(napi_env env, napi_callback_info info)
{
    sg_breaker *breaker = breaker_arg(env, info);
    if (breaker == NULL) {
        return NULL;
    }
    sg_state state = SG_STATE_CLOSED;
    sg_result result = sg.breaker_get_state(breaker, &state);
    out_slots(env)[0] = state;
    return result_value(env, result);
}

/* breakerCounters(breaker): the result code, and the counters in out[0..8], header order. */
static napi_value breaker_counters(napi_env env, napi_callback_info info)
{
    sg_breaker *breaker = breaker_arg(env, info);
    if (breaker == NULL) {
        return NULL;
    }
    sg_breaker_counters counters;
    sg_result result = sg.breaker_get_counters(breaker, &counters);
    if (result == SG_OK) {
        write_counters(out_slots(env), &counters);
    }
    return result_value(env, result);
}

/* The operator switches that report whether they changed the state. */
enum operator_switch { FORCE_OPEN, DISABLE };

static const enum operator_switch FORCE_OPEN_SWITCH = FORCE_OPEN;
static const enum operator_switch DISABLE_SWITCH = DISABLE;

/* breakerForceOpen(breaker) and breakerDisable(breaker), told apart by their data: the result
 * code, and in out[0] whether the state changed. */
static napi_value breaker_switch(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    void *data = NULL;
    sg_breaker *breaker;
    if (!get_args(env, info, 1, argv, &data) || (breaker = get_handle(env, argv[0])) == NULL) {
        return NULL;
    }
    bool changed = false;
    sg_result result = *(const enum operator_switch *)data == FORCE_OPEN
        ? sg.breaker_force_open(breaker, &changed)
        : sg.breaker_disable(breaker, &changed);
    out_slots(env)[0] = changed;
    return result_value(env, result);
}

/* breakerReset(breaker): the result code. */
static napi_value breaker_reset(napi_env env, napi_callback_info info)
{
    sg_breaker *breaker = breaker_arg(env, info);
    return breaker == NULL ? NULL : result_value(env, sg.breaker_reset(breaker));
}

/* permitRecord(permit, outcome, elapsed_us): the result code (SG_STALE_OUTCOME included).
 * The permit is consumed whatever the result. */
static napi_value permit_record(napi_env env, napi_callback_info info)
{
    napi_value argv[3];
    sg_permit *permit;
    uint64_t outcome = 0;
    uint64_t elapsed_us = 0;
    if (!get_args(env, info, 3, argv, NULL) || (permit = get_handle(env, argv[0])) == NULL ||
        !get_whole(env, argv[1], UINT32_MAX, "outcome", &outcome) ||
        !get_whole(env, argv[2], MAX_WHOLE, "elapsed", &elapsed_us)) {
        return NULL;
    }
    return result_value(env, sg.permit_record(permit, (uint32_t)outcome, elapsed_us));
}

/* permitFree(permit): releases a permit unrecorded (counted as ignored). */
static napi_value permit_free(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    sg_permit *permit;
    if (get_args(env, info, 1, argv, NULL) && (permit = get_handle(env, argv[0])) != NULL) {
        sg.permit_free(permit);
    }
    return NULL;
}

const struct export breaker_exports[] = {
    {"breakerNew", breaker_new, NULL},
    {"breakerFree", breaker_free, NULL},
    {"breakerAcquire", breaker_acquire, NULL},
    {"breakerState", breaker_state, NULL},
    {"breakerCounters", breaker_counters, NULL},
    {"breakerForceOpen", breaker_switch, (void *)&FORCE_OPEN_SWITCH},
    {"breakerDisable", breaker_switch, (void *)&DISABLE_SWITCH},
    {"breakerReset", breaker_reset, NULL},
    {"permitRecord", permit_record, NULL},
    {"permitFree", permit_free, NULL},
    {NULL, NULL, NULL},
};
