/*
 * addon.h: what the parts of the Node-API addon share.
 *
 * The addon is a thin layer between lib/native.js and the C ABI of include/sluicegate.h. It
 * opens libsluicegate at run time (so SLUICEGATE_LIB can choose the file), turns JavaScript
 * keys into bytes, and hands results back the cheapest way Node-API allows: each function
 * returns the library's sg_result as a number and writes its numeric outputs into one
 * Float64Array per thread (`out`), which the JavaScript layer reads right after the call.
 * Handles travel as Node-API externals holding the library's pointer.
 *
 * Only lib/native.js calls these functions, and it checks the public arguments first: the
 * checks here guard the addon's own invariants and report a broken caller with a TypeError
 * rather than undefined behaviour.
 */
#ifndef SLUICEGATE_NODE_ADDON_H
#define SLUICEGATE_NODE_ADDON_H

#define NAPI_VERSION 8

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluicegate.h"

/* Every function of the C ABI the addon calls, as X(name without the sg_ prefix). */
#define SG_FUNCTIONS(X)                                                                        \
    X(version)                                                                                 \
    X(result_message)                                                                          \
    X(last_error)                                                                              \
    X(limiter_new)                                                                             \
    X(limiter_free)                                                                            \
    X(limiter_check)                                                                           \
    X(limiter_check_now)                                                                       \
    X(limiter_peek)                                                                            \
    X(limiter_peek_now)                                                                        \
    X(limiter_reset)                                                                           \
    X(limiter_remove)                                                                          \
    X(limiter_len)                                                                             \
    X(limiter_get_stats)                                                                       \
    X(breaker_new)                                                                             \
    X(breaker_free)                                                                            \
    X(breaker_acquire)                                                                         \
    X(breaker_get_state)                                                                       \
    X(breaker_get_counters)                                                                    \
    X(breaker_force_open)                                                                      \
    X(breaker_disable)                                                                         \
    X(breaker_reset)                                                                           \
    X(permit_record)                                                                           \
    X(permit_free)                                                                             \
    X(breakers_new)                                                                            \
    X(breakers_free)                                                                           \
    X(breakers_acquire)                                                                        \
    X(breakers_get_state)                                                                      \
    X(breakers_get_counters)                                                                   \
    X(breakers_force_open)                                                                     \
    X(breakers_disable)                                                                        \
    X(breakers_reset)                                                                          \
    X(breakers_remove)                                                                         \
    X(breakers_len)                                                                            \
    X(breakers_get_stats)

/* The library's functions, typed by the header's own declarations. */
struct sg_api {
#define SG_API_FIELD(name) __typeof__(sg_##name) *name;
    SG_FUNCTIONS(SG_API_FIELD)
#undef SG_API_FIELD
};

/* The opened library; its fields are set once, by `load`, before any other call. */
extern struct sg_api sg;

/* How many numbers the widest output (sg_breaker_counters) needs in `out`. */
#define OUT_SLOTS 8

/* Whether `load` has opened the library; throws if not. Every entry point that does not take
 * a handle (handles come only from an opened library) checks this first. */
bool require_library(napi_env env);

/* The thread's output array, made at module initialisation. */
double *out_slots(napi_env env);

/* One exported function: its name, its C implementation, and the data it is called with. */
struct export {
    const char *name;
    napi_callback callback;
    void *data;
};

/* The exports of each part, ending with an entry whose name is NULL. */
extern const struct export library_exports[];
extern const struct export limiter_exports[];
extern const struct export breaker_exports[];
extern const struct export registry_exports[];
extern const struct export listener_exports[];

/* ---- Arguments and results (args.c) ---- */

/* Reads exactly `count` arguments into `argv`, and the function's data into `*data` if not
 * NULL. Throws and returns false when fewer were passed. */
bool get_args(napi_env env, napi_callback_info info, size_t count, napi_value *argv, void **data);

/* The pointer held by the external `value`; throws and returns NULL if it is not one. */
void *get_handle(napi_env env, napi_value value);

/* The largest whole number a JavaScript number holds exactly (Number.MAX_SAFE_INTEGER): the
 * bound for every 64-bit input. */
#define MAX_WHOLE 9007199254740991.0

/* A whole number in [0, max] from `value`; throws a RangeError naming `what` otherwise. */
bool get_whole(napi_env env, napi_value value, double max, const char *what, uint64_t *result);

/* The bytes of a key: a string (as UTF-8) or a Uint8Array (as is). Small strings are copied
 * into `inline_bytes`; longer ones into memory that key_release frees. */
struct key {
    const uint8_t *bytes;
    size_t len;
    uint8_t *owned;
    uint8_t inline_bytes[256];
};

/* Fills `key` from `value`; throws a TypeError and returns false if it is not a key. */
bool key_from(napi_env env, napi_value value, struct key *key);

/* Frees what key_from allocated. */
void key_release(struct key *key);

/* Reads the property `name` of `object` as a whole number in [0, max] (a missing property
 * reads as 0, the header's "default"). */
bool get_whole_field(napi_env env, napi_value object, const char *name, double max,
                     uint64_t *result);

/* Reads the property `name` of `object` as a finite number (missing: 0). */
bool get_number_field(napi_env env, napi_value object, const char *name, double *result);

/* `result` as a JavaScript number. */
napi_value result_value(napi_env env, sg_result result);

/* A new external holding `pointer`, or NULL after throwing. */
napi_value handle_value(napi_env env, void *pointer);

/* A microsecond count as a number: UINT64_MAX, the header's "never by the clock", is Infinity. */
double micros_value(uint64_t micros);

/* Writes the breaker counters to `out`. */
void write_counters(double *out, const sg_breaker_counters *counters);

/* Writes an admission's rejection reason and wait to `out`, and returns the permit as an
 * external, or null when rejected. */
napi_value admission_value(napi_env env, const sg_admission *admission);

/* ---- Breaker configurations (breaker.c) ---- */

/* Fills `config` from an object whose properties are named as sg_breaker_config's fields. */
bool breaker_config_from(napi_env env, napi_value object, sg_breaker_config *config);

/* ---- Listeners (listener.c) ---- */

/* The listener held by the external `value`, or NULL for null/undefined; false after throwing
 * if `value` is neither. */
bool get_listener(napi_env env, napi_value value, void **listener);

/* The C callbacks that deliver transitions to a listener made by listenerNew. */
void deliver_transition(void *userdata, const sg_transition *transition);
void deliver_keyed_transition(void *userdata, const uint8_t *key, size_t key_len,
                              const sg_transition *transition);

#endif /* SLUICEGATE_NODE_ADDON_H */
