/*
 * limiter.c: sg_limiter for JavaScript.
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"

/* The longest window the header accepts, 2^52 microseconds, and the largest limit. */
#define MAX_DURATION_US 4503599627370496.0
#define MAX_LIMIT 4294967295.0

/* Reads `windows`, an array of {limit, duration_us}, into memory the caller frees. */
static bool windows_from(napi_env env, napi_value array, sg_window **windows, size_t *len)
{
    bool is_array = false;
    uint32_t count = 0;
    napi_is_array(env, array, &is_array);
    if (!is_array) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "windows must be an array");
        return false;
    }
    napi_get_array_length(env, array, &count);
    *windows = calloc(count == 0 ? 1 : count, sizeof **windows);
    if (*windows == NULL) {
        napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "out of memory reading windows");
        return false;
    }
    for (uint32_t i = 0; i < count; i++) {
        napi_value window;
        uint64_t limit = 0;
        uint64_t duration = 0;
        if (napi_get_element(env, array, i, &window) != napi_ok ||
            !get_whole_field(env, window, "limit", MAX_LIMIT, &limit) ||
            !get_whole_field(env, window, "duration_us", MAX_DURATION_US, &duration)) {
            free(*windows);
            return false;
        }
        (*windows)[i].limit = limit;
        (*windows)[i].duration_us = duration;
    }
    *len = count;
    return true;
}

/* limiterNew(config): a limiter, or the result code it was refused with. `config` holds
 * sg_limiter_config's fields by name; `windows` is an array of {limit, duration_us}. */
static napi_value limiter_new(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    if (!require_library(env) || !get_args(env, info, 1, argv, NULL)) {
        return NULL;
    }
    sg_limiter_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    uint64_t time_base = 0, shards = 0, max_key_len = 0, on_full = 0;
    napi_value windows;
    if (!get_whole_field(env, argv[0], "time_base", UINT32_MAX, &time_base) ||
        !get_whole_field(env, argv[0], "max_keys", MAX_WHOLE, &config.max_keys) ||
        !get_whole_field(env, argv[0], "shards", UINT32_MAX, &shards) ||
        !get_whole_field(env, argv[0], "max_key_len", UINT32_MAX, &max_key_len) ||
        !get_whole_field(env, argv[0], "on_full", UINT32_MAX, &on_full) ||
        napi_get_named_property(env, argv[0], "windows", &windows) != napi_ok) {
        return NULL;
    }
    config.time_base = (uint32_t)time_base;
    config.shards = (uint32_t)shards;
    config.max_key_len = (uint32_t)max_key_len;
    config.on_full = (uint32_t)on_full;

    sg_window *window_array = NULL;
    if (!windows_from(env, windows, &window_array, &config.windows_len)) {
        return NULL;
    }
    config.windows = window_array;
    sg_limiter *limiter = NULL;
    sg_result result = sg.limiter_new(&config, &limiter);
    free(window_array);
    if (result != SG_OK) {
        return result_value(env, result);
    }
    napi_value handle = handle_value(env, limiter);
    if (handle == NULL) {
        sg.limiter_free(limiter);
    }
    return handle;
}

/* limiterFree(limiter). */
static napi_value limiter_free(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    sg_limiter *limiter;
    if (get_args(env, info, 1, argv, NULL) && (limiter = get_handle(env, argv[0])) != NULL) {
        sg.limiter_free(limiter);
    }
    return NULL;
}

/* Which of the four decisions a function makes. */
struct decide_mode {
    bool peek;    /* record nothing */
    bool at_time; /* the caller passes the time */
};

static const struct decide_mode CHECK = {false, false};
static const struct decide_mode CHECK_AT = {false, true};
static const struct decide_mode PEEK = {true, false};
static const struct decide_mode PEEK_AT = {true, true};

/* limiterCheck(limiter, key, cost), limiterCheckAt(limiter, key, cost, now_us) and the two
 * peeks: the result code, and on SG_OK the decision in out[0..6] (allowed, window, limit,
 * remaining, reset_after_us, retry_after_us). */
static napi_value limiter_decide(napi_env env, napi_callback_info info)
{
    napi_value argv[4];
    void *data = NULL;
    size_t argc = 4;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok) {
        return NULL;
    }
    const struct decide_mode *mode = data;
    if (argc < (mode->at_time ? 4u : 3u)) {
        napi_throw_type_error(env, "ERR_MISSING_ARGS", "missing arguments");
        return NULL;
    }
    sg_limiter *limiter = get_handle(env, argv[0]);
    uint64_t cost = 0;
    uint64_t now_us = 0;
    struct key key;
    if (limiter == NULL || !get_whole(env, argv[2], MAX_WHOLE, "cost", &cost) ||
        (mode->at_time && !get_whole(env, argv[3], MAX_WHOLE, "now", &now_us)) ||
        !key_from(env, argv[1], &key)) {
        return NULL;
    }

    sg_decision decision;
    sg_result result;
    if (mode->at_time) {
        result = mode->peek
            ? sg.limiter_peek_now(limiter, key.bytes, key.len, cost, now_us, &decision)
            : sg.limiter_check_now(limiter, key.bytes, key.len, cost, now_us, &decision);
    } else {
        result = mode->peek ? sg.limiter_peek(limiter, key.bytes, key.len, cost, &decision)
                            : sg.limiter_check(limiter, key.bytes, key.len, cost, &decision);
    }
    key_release(&key);
    if (result == SG_OK) {
        double *out = out_slots(env);
        out[0] = decision.allowed;
        out[1] = decision.window;
        out[2] = (double)decision.limit;
        out[3] = (double)decision.remaining;
        out[4] = (double)decision.reset_after_us;
        out[5] = (double)decision.retry_after_us;
    }
    return result_value(env, result);
}

/* limiterReset(limiter, key) and limiterRemove(limiter, key): the result code, and in out[0]
 * whether the key was tracked. */
static napi_value forget_key(napi_env env, napi_callback_info info, bool remove)
{
    napi_value argv[2];
    sg_limiter *limiter;
    struct key key;
    if (!get_args(env, info, 2, argv, NULL) || (limiter = get_handle(env, argv[0])) == NULL ||
        !key_from(env, argv[1], &key)) {
        return NULL;
    }
    bool was_tracked = false;
    sg_result result = remove ? sg.limiter_remove(limiter, key.bytes, key.len, &was_tracked)
                              : sg.limiter_reset(limiter, key.bytes, key.len, &was_tracked);
    key_release(&key);
    out_slots(env)[0] = was_tracked;
    return result_value(env, result);
}

static napi_value limiter_reset(napi_env env, napi_callback_info info)
{
    return forget_key(env, info, false);
}

static napi_value limiter_remove(napi_env env, napi_callback_info info)
{
    return forget_key(env, info, true);
}

/* limiterLen(limiter): the result code, and in out[0] how many keys are tracked. */
static napi_value limiter_len(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    sg_limiter *limiter;
    if (!get_args(env, info, 1, argv, NULL) || (limiter = get_handle(env, argv[0])) == NULL) {
        return NULL;
    }
    size_t len = 0;
    sg_result result = sg.limiter_len(limiter, &len);
    out_slots(env)[0] = (double)len;
    return result_value(env, result);
}

/* limiterStats(limiter): the result code, and in out[0..7] the stats in header order. */
static napi_value limiter_stats(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    sg_limiter *limiter;
    if (!get_args(env, info, 1, argv, NULL) || (limiter = get_handle(env, argv[0])) == NULL) {
        return NULL;
    }
    sg_limiter_stats stats;
    sg_result result = sg.limiter_get_stats(limiter, &stats);
    if (result == SG_OK) {
        double *out = out_slots(env);
        out[0] = (double)stats.keys;
        out[1] = (double)stats.allowed;
        out[2] = (double)stats.rejected;
        out[3] = (double)stats.evictions;
        out[4] = (double)stats.reclaimed;
        out[5] = (double)stats.refused_keys;
        out[6] = (double)stats.bytes;
    }
    return result_value(env, result);
}

const struct export limiter_exports[] = {
    {"limiterNew", limiter_new, NULL},
    {"limiterFree", limiter_free, NULL},
    {"limiterCheck", limiter_decide, (void *)&CHECK},
    {"limiterCheckAt", limiter_decide, (void *)&CHECK_AT},
    {"limiterPeek", limiter_decide, (void *)&PEEK},
    {"limiterPeekAt", limiter_decide, (void *)&PEEK_AT},
    {"limiterReset", limiter_reset, NULL},
    {"limiterRemove", limiter_remove, NULL},
    {"limiterLen", limiter_len, NULL},
    {"limiterStats", limiter_stats, NULL},
    {NULL, NULL, NULL},
};
