/*
 * args.c: reading arguments from JavaScript and handing results back.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

bool get_args(napi_env env, napi_callback_info info, size_t count, napi_value *argv, void **data)
{
    size_t argc = count;
    if (napi_get_cb_info(env, info, &argc, argv, NULL, data) != napi_ok) {
        return false;
    }
    if (argc < count) {
        char message[96];
        snprintf(message, sizeof message, "expected %zu arguments, got %zu", count, argc);
        napi_throw_type_error(env, "ERR_MISSING_ARGS", message);
        return false;
    }
    return true;
}

void *get_handle(napi_env env, napi_value value)
{
    void *pointer = NULL;
    if (napi_get_value_external(env, value, &pointer) != napi_ok || pointer == NULL) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a sluicegate handle");
        return NULL;
    }
    return pointer;
}

bool get_whole(napi_env env, napi_value value, double max, const char *what, uint64_t *result)
{
    double number = 0;
    if (napi_get_value_double(env, value, &number) != napi_ok || !isfinite(number) ||
        number < 0 || number > max || floor(number) != number) {
        char message[160];
        snprintf(message, sizeof message, "%s must be a whole number from 0 to %.0f", what, max);
        napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
        return false;
    }
    *result = (uint64_t)number;
    return true;
}

bool key_from(napi_env env, napi_value value, struct key *key)
{
    key->owned = NULL;
    napi_valuetype type;
    napi_typeof(env, value, &type);
    if (type == napi_string) {
        char *inline_text = (char *)key->inline_bytes;
        size_t len = 0;
        napi_get_value_string_utf8(env, value, inline_text, sizeof key->inline_bytes, &len);
        /* A string that filled the buffer may have been cut (at a character boundary, so up
         * to 3 bytes short of full): ask for its whole length. */
        if (len + 4 >= sizeof key->inline_bytes) {
            size_t full = 0;
            napi_get_value_string_utf8(env, value, NULL, 0, &full);
            if (full > len) {
                key->owned = malloc(full + 1);
                if (key->owned == NULL) {
                    napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED",
                                     "out of memory copying a key");
                    return false;
                }
                napi_get_value_string_utf8(env, value, (char *)key->owned, full + 1, &len);
                key->bytes = key->owned;
                key->len = len;
                return true;
            }
        }
        key->bytes = key->inline_bytes;
        key->len = len;
        return true;
    }

    bool is_typed_array = false;
    napi_is_typedarray(env, value, &is_typed_array);
    if (is_typed_array) {
        napi_typedarray_type array_type;
        size_t len = 0;
        void *data = NULL;
        napi_get_typedarray_info(env, value, &array_type, &len, &data, NULL, NULL);
        if (array_type == napi_uint8_array) {
            key->bytes = data;
            key->len = len;
            return true;
        }
    }
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "The \"key\" argument must be a string, a Buffer or a Uint8Array");
    return false;
}

void key_release(struct key *key)
{
    free(key->owned);
    key->owned = NULL;
}

/* The property `name` of `object`, and whether it is set (not undefined). */
static bool get_field(napi_env env, napi_value object, const char *name, napi_value *value,
                      bool *present)
{
    if (napi_get_named_property(env, object, name, value) != napi_ok) {
        return false;
    }
    napi_valuetype type;
    napi_typeof(env, *value, &type);
    *present = type != napi_undefined;
    return true;
}

bool get_whole_field(napi_env env, napi_value object, const char *name, double max,
                     uint64_t *result)
{
    napi_value value;
    bool present = false;
    *result = 0;
    if (!get_field(env, object, name, &value, &present)) {
        return false;
    }
    return !present || get_whole(env, value, max, name, result);
}

bool get_number_field(napi_env env, napi_value object, const char *name, double *result)
{
    napi_value value;
    bool present = false;
    *result = 0;
    if (!get_field(env, object, name, &value, &present)) {
        return false;
    }
    if (!present) {
        return true;
    }
    if (napi_get_value_double(env, value, result) != napi_ok || !isfinite(*result)) {
        char message[160];
        snprintf(message, sizeof message, "%s must be a finite number", name);
        napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
        return false;
    }
    return true;
}

napi_value result_value(napi_env env, sg_result result)
{
    napi_value value;
    napi_create_uint32(env, (uint32_t)result, &value);
    return value;
}

napi_value handle_value(napi_env env, void *pointer)
{
    napi_value value;
    if (napi_create_external(env, pointer, NULL, NULL, &value) != napi_ok) {
        return NULL;
    }
    return value;
}

double micros_value(uint64_t micros)
{
    return micros == UINT64_MAX ? INFINITY : (double)micros;
}

void write_counters(double *out, const sg_breaker_counters *counters)
{
    out[0] = (double)counters->permitted;
    out[1] = (double)counters->rejected;
    out[2] = (double)counters->successes;
    out[3] = (double)counters->failures;
    out[4] = (double)counters->ignored;
    out[5] = (double)counters->slow;
    out[6] = (double)counters->stale;
    out[7] = (double)counters->trial_timeouts;
}

napi_value admission_value(napi_env env, const sg_admission *admission)
{
    double *out = out_slots(env);
    out[0] = (double)admission->reject_reason;
    out[1] = micros_value(admission->retry_after_us);
    if (admission->permit == NULL) {
        napi_value null_value;
        napi_get_null(env, &null_value);
        return null_value;
    }
    napi_value permit = handle_value(env, admission->permit);
    if (permit == NULL) {
        sg.permit_free(admission->permit); /* nothing else can reach it now */
    }
    return permit;
}
