/*
 * registry.c: sg_breakers, the registry of breakers by key, for JavaScript.
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"

/* The overrides being built: each key's bytes and configuration, freed by overrides_free. */
struct overrides {
    sg_breaker_override *entries;
    sg_breaker_config *configs;
    struct key *keys;
    uint32_t len;
};

static void overrides_free(struct overrides *overrides)
{
    for (uint32_t i = 0; i < overrides->len; i++) {
        key_release(&overrides->keys[i]);
    }
    free(overrides->entries);
    free(overrides->configs);
    free(overrides->keys);
}

/* Reads parallel arrays of keys and configurations. A key that is a Uint8Array is used in
 * place: the arrays stay alive until sg_breakers_new, which copies them, returns. */
static bool overrides_from(napi_env env, napi_value keys, napi_value configs,
                           struct overrides *overrides)
{
    memset(overrides, 0, sizeof *overrides);
    uint32_t len = 0;
    uint32_t configs_len = 0;
    bool keys_array = false;
    bool configs_array = false;
    napi_is_array(env, keys, &keys_array);
    napi_is_array(env, configs, &configs_array);
    if (keys_array && configs_array) {
        napi_get_array_length(env, keys, &len);
        napi_get_array_length(env, configs, &configs_len);
    }
    if (!keys_array || !configs_array || len != configs_len) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                              "override keys and configurations must be arrays of one length");
        return false;
    }
    size_t slots = len == 0 ? 1 : len;
    overrides->entries = calloc(slots, sizeof *overrides->entries);
    overrides->configs = calloc(slots, sizeof *overrides->configs);
    overrides->keys = calloc(slots, sizeof *overrides->keys);
    if (overrides->entries == NULL || overrides->configs == NULL || overrides->keys == NULL) {
        overrides_free(overrides);
        napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "out of memory reading overrides");
        return false;
    }
    for (uint32_t i = 0; i < len; i++) {
        napi_value key;
        napi_value config;
        napi_get_element(env, keys, i, &key);
        napi_get_element(env, configs, i, &config);
        if (!key_from(env, key, &overrides->keys[i])) {
            overrides_free(overrides);
            return false;
        }
        overrides->len = i + 1;
        if (!breaker_config_from(env, config, &overrides->configs[i])) {
            overrides_free(overrides);
            return false;
        }
        overrides->entries[i].key = overrides->keys[i].bytes;
        overrides->entries[i].key_len = overrides->keys[i].len;
        overrides->entries[i].config = &overrides->configs[i];
    }
    return true;
}

/* breakersNew(config, overrideKeys, overrideConfigs, listener): a registry, or the result
 * code it was refused with. `config` holds sg_breakers_config's fields by name, its `breaker`
 * an object as breakerNew takes; `listener` is one made by listenerNew, or null. */
static napi_value breakers_new(napi_env env, napi_callback_info info)
{
    napi_value argv[4];
    napi_value shared;
    sg_breaker_config breaker;
    sg_breakers_config config;
    memset(&config, 0, sizeof config);
    config.struct_size = sizeof config;
    uint64_t shards = 0;
    uint64_t max_key_len = 0;
    void *listener = NULL;
    if (!require_library(env) || !get_args(env, info, 4, argv, NULL) ||
        !get_whole_field(env, argv[0], "shards", UINT32_MAX, &shards) ||
        !get_whole_field(env, argv[0], "max_keys", MAX_WHOLE, &config.max_keys) ||
        !get_whole_field(env, argv[0], "idle_after_us", MAX_WHOLE, &config.idle_after_us) ||
        !get_whole_field(env, argv[0], "max_key_len", UINT32_MAX, &max_key_len) ||
        napi_get_named_property(env, argv[0], "breaker", &shared) != napi_ok ||
        !breaker_config_from(env, shared, &breaker) || !get_listener(env, argv[3], &listener)) {
        return NULL;
    }
    config.shards = (uint32_t)shards;
    config.max_key_len = (uint32_t)max_key_len;
    config.breaker = &breaker;

    struct overrides overrides;
    if (!overrides_from(env, argv[1], argv[2], &overrides)) {
        return NULL;
    }
    config.overrides = overrides.entries;
    config.overrides_len = overrides.len;
    sg_breakers *breakers = NULL;
    sg_result result = sg.breakers_new(
        &config, listener == NULL ? NULL : deliver_keyed_transition, listener, &breakers);
    overrides_free(&overrides);
    if (result != SG_OK) {
        return result_value(env, result);
    }
    napi_value handle = handle_value(env, breakers);
    if (handle == NULL) {
        sg.breakers_free(breakers);
    }
    return handle;
}

/* breakersFree(breakers). */
static napi_value breakers_free(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    sg_breakers *breakers;
    if (get_args(env, info, 1, argv, NULL) && (breakers = get_handle(env, argv[0])) != NULL) {
        sg.breakers_free(breakers);
    }
    return NULL;
}

/* Reads (registry, key) arguments and the function's data; false after throwing. */
static bool keyed_args(napi_env env, napi_callback_info info, sg_breakers **breakers,
                       struct key *key, void **data)
{
    napi_value argv[2];
    return get_args(env, info, 2, argv, data) &&
           (*breakers = get_handle(env, argv[0])) != NULL && key_from(env, argv[1], key);
}

/* breakersAcquire(breakers, key): as breakerAcquire, for `key`'s breaker. */
static napi_value breakers_acquire(napi_env env, napi_callback_info info)
{
    sg_breakers *breakers;
    struct key key;
    if (!keyed_args(env, info, &breakers, &key, NULL)) {
        return NULL;
    }
    sg_admission admission;
    sg_result result = sg.breakers_acquire(breakers, key.bytes, key.len, &admission);
    key_release(&key);
    return result == SG_OK ? admission_value(env, &admission) : result_value(env, result);
}

/* breakersState(breakers, key): the result code, and the sg_state in out[0]. */
static napi_value breakers_state(napi_env env, napi_callback_info info)
{
    sg_breakers *breakers;
    struct key key;
    if (!keyed_args(env, info, &breakers, &key, NULL)) {
        return NULL;
    }
    sg_state state = SG_STATE_CLOSED;
    sg_result result = sg.breakers_get_state(breakers, key.bytes, key.len, &state);
    key_release(&key);
    out_slots(env)[0] = state;
    return result_value(env, result);
}

/* breakersCounters(breakers, key): the result code, and the counters in out[0..8]. */
static napi_value breakers_counters(napi_env env, napi_callback_info info)
{
    sg_breakers *breakers;
    struct key key;
    if (!keyed_args(env, info, &breakers, &key, NULL)) {
        return NULL;
    }
    sg_breaker_counters counters;
    sg_result result = sg.breakers_get_counters(breakers, key.bytes, key.len, &counters);
    key_release(&key);
    if (result == SG_OK) {
        write_counters(out_slots(env), &counters);
    }
    return result_value(env, result);
}

/* The keyed calls that answer with one bool. */
enum keyed_switch { FORCE_OPEN, DISABLE, RESET, REMOVE };

static const enum keyed_switch FORCE_OPEN_SWITCH = FORCE_OPEN;
static const enum keyed_switch DISABLE_SWITCH = DISABLE;
static const enum keyed_switch RESET_SWITCH = RESET;
static const enum keyed_switch REMOVE_SWITCH = REMOVE;

/* breakersForceOpen, breakersDisable (out[0]: whether the state changed), breakersReset and
 * breakersRemove (out[0]: whether the registry held the key), told apart by their data. */
static napi_value breakers_switch(napi_env env, napi_callback_info info)
{
    sg_breakers *breakers;
    struct key key;
    void *data = NULL;
    if (!keyed_args(env, info, &breakers, &key, &data)) {
        return NULL;
    }
    bool flag = false;
    sg_result result = SG_INVALID_ARGUMENT;
    switch (*(const enum keyed_switch *)data) {
    case FORCE_OPEN:
        result = sg.breakers_force_open(breakers, key.bytes, key.len, &flag);
        break;
    case DISABLE:
        result = sg.breakers_disable(breakers, key.bytes, key.len, &flag);
        break;
    case RESET:
        result = sg.breakers_reset(breakers, key.bytes, key.len, &flag);
        break;
    case REMOVE:
        result = sg.breakers_remove(breakers, key.bytes, key.len, &flag);
        break;
    }
    key_release(&key);
    out_slots(env)[0] = flag;
    return result_value(env, result);
}

/* breakersLen(breakers): the result code, and in out[0] how many breakers it holds. */
static napi_value breakers_len(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    sg_breakers *breakers;
    if (!get_args(env, info, 1, argv, NULL) || (breakers = get_handle(env, argv[0])) == NULL) {
        return NULL;
    }
    size_t len = 0;
    sg_result result = sg.breakers_len(breakers, &len);
    out_slots(env)[0] = (double)len;
    return result_value(env, result);
}

/* breakersStats(breakers): the result code, and in out[0..4] the stats in header order. */
static napi_value breakers_stats(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    sg_breakers *breakers;
    if (!get_args(env, info, 1, argv, NULL) || (breakers = get_handle(env, argv[0])) == NULL) {
        return NULL;
    }
    sg_breakers_stats stats;
    sg_result result = sg.breakers_get_stats(breakers, &stats);
    if (result == SG_OK) {
        double *out = out_slots(env);
        out[0] = (double)stats.keys;
        out[1] = (double)stats.reclaimed;
        out[2] = (double)stats.refused;
        out[3] = (double)stats.bytes;
    }
    return result_value(env, result);
}

const struct export registry_exports[] = {
    {"breakersNew", breakers_new, NULL},
    {"breakersFree", breakers_free, NULL},
    {"breakersAcquire", breakers_acquire, NULL},
    {"breakersState", breakers_state, NULL},
    {"breakersCounters", breakers_counters, NULL},
    {"breakersForceOpen", breakers_switch, (void *)&FORCE_OPEN_SWITCH},
    {"breakersDisable", breakers_switch, (void *)&DISABLE_SWITCH},
    {"breakersReset", breakers_switch, (void *)&RESET_SWITCH},
    {"breakersRemove", breakers_switch, (void *)&REMOVE_SWITCH},
    {"breakersLen", breakers_len, NULL},
    {"breakersStats", breakers_stats, NULL},
    {NULL, NULL, NULL},
};
