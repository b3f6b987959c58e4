/*
 * module.c: the addon's entry point. Each JavaScript thread that loads the addon (the main
 * thread, each worker) gets its own exports and its own output array, `out`.
 */
#include <stdlib.h>

#include "addon.h"

/* What one thread's copy of the addon keeps: the memory behind its exported `out`. */
struct instance {
    double *out;
    napi_ref out_array; /* keeps `out`'s ArrayBuffer alive for as long as the instance */
};

double *out_slots(napi_env env)
{
    struct instance *instance = NULL;
    napi_get_instance_data(env, (void **)&instance);
    return instance->out;
}

static void instance_free(napi_env env, void *data, void *hint)
{
    (void)hint;
    struct instance *instance = data;
    napi_delete_reference(env, instance->out_array);
    free(instance);
}

static bool define_exports(napi_env env, napi_value exports, const struct export *list)
{
    for (; list->name != NULL; list++) {
        napi_value function;
        if (napi_create_function(env, list->name, NAPI_AUTO_LENGTH, list->callback, list->data,
                                 &function) != napi_ok ||
            napi_set_named_property(env, exports, list->name, function) != napi_ok) {
            return false;
        }
    }
    return true;
}

NAPI_MODULE_INIT()
{
    struct instance *instance = calloc(1, sizeof *instance);
    napi_value out;
    if (instance == NULL) {
        napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "out of memory loading the addon");
        return NULL;
    }
    if (napi_create_arraybuffer(env, OUT_SLOTS * sizeof(double), (void **)&instance->out,
                                &out) != napi_ok ||
        napi_create_reference(env, out, 1, &instance->out_array) != napi_ok) {
        free(instance);
        return NULL;
    }
    if (napi_set_instance_data(env, instance, instance_free, NULL) != napi_ok) {
        napi_delete_reference(env, instance->out_array);
        free(instance);
        return NULL;
    }
    if (napi_set_named_property(env, exports, "out", out) != napi_ok ||
        !define_exports(env, exports, library_exports) ||
        !define_exports(env, exports, limiter_exports) ||
        !define_exports(env, exports, breaker_exports) ||
        !define_exports(env, exports, registry_exports) ||
        !define_exports(env, exports, listener_exports)) {
        return NULL;
    }
    return exports;
}
