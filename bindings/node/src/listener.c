/*
 * listener.c: delivering breaker transitions to a JavaScript function.
 *
 * The library has no threads of its own: it calls a listener from inside the call that caused
 * the transition (an acquire, a record, an operator switch, a permit released by a finalizer),
 * and in Node every such call is made by the JavaScript thread that owns the handle. So a
 * listener runs synchronously on that thread, inside a Node-API call, where calling into
 * JavaScript is allowed. A call from any other thread (which the library's contract allows but
 * this addon never makes) is dropped rather than let into V8.
 *
 * The JavaScript layer keeps a listener until the library can no longer call it: its handle
 * is freed and every permit it handed out is recorded or released. Then it calls listenerFree.
 */
#include <pthread.h>
#include <stdlib.h>

#include "addon.h"

struct listener {
    napi_env env;
    napi_ref callback;
    pthread_t thread;
};

/* listenerNew(callback): a listener that calls `callback(from, to, cause, atUs, generation)`,
 * with a Buffer of the key as a sixth argument for a registry's transitions. */
static napi_value listener_new(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    napi_valuetype type;
    if (!get_args(env, info, 1, argv, NULL)) {
        return NULL;
    }
    napi_typeof(env, argv[0], &type);
    if (type != napi_function) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "a listener must be a function");
        return NULL;
    }
    struct listener *listener = malloc(sizeof *listener);
    if (listener == NULL) {
        napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "out of memory for a listener");
        return NULL;
    }
    listener->env = env;
    listener->thread = pthread_self();
    if (napi_create_reference(env, argv[0], 1, &listener->callback) != napi_ok) {
        free(listener);
        return NULL;
    }
    napi_value handle = handle_value(env, listener);
    if (handle == NULL) {
        napi_delete_reference(env, listener->callback);
        free(listener);
    }
    return handle;
}

/* listenerFree(listener): lets go of the function; the library must no longer hold it. */
static napi_value listener_free(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    struct listener *listener;
    if (get_args(env, info, 1, argv, NULL) && (listener = get_handle(env, argv[0])) != NULL) {
        napi_delete_reference(env, listener->callback);
        free(listener);
    }
    return NULL;
}

bool get_listener(napi_env env, napi_value value, void **listener)
{
    napi_valuetype type;
    napi_typeof(env, value, &type);
    if (type == napi_null || type == napi_undefined) {
        *listener = NULL;
        return true;
    }
    *listener = get_handle(env, value);
    return *listener != NULL;
}

/* Calls the listener with the transition and, if `key` is not NULL, the key. */
static void deliver(struct listener *listener, const uint8_t *key, size_t key_len,
                    const sg_transition *transition)
{
    if (!pthread_equal(pthread_self(), listener->thread)) {
        return;
    }
    napi_env env = listener->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) {
        return;
    }
    napi_value callback;
    napi_value receiver;
    napi_value argv[6];
    size_t argc = 5;
    napi_get_reference_value(env, listener->callback, &callback);
    napi_get_undefined(env, &receiver);
    napi_create_uint32(env, transition->from, &argv[0]);
    napi_create_uint32(env, transition->to, &argv[1]);
    napi_create_uint32(env, transition->cause, &argv[2]);
    napi_create_double(env, (double)transition->at_us, &argv[3]);
    napi_create_double(env, (double)transition->generation, &argv[4]);
    if (key != NULL) {
        void *copy = NULL;
        napi_create_buffer_copy(env, key_len, key, &copy, &argv[5]);
        argc = 6;
    }
    if (napi_call_function(env, receiver, callback, argc, argv, NULL) == napi_pending_exception) {
        /* The JavaScript side catches what the user's function throws; what is left is the
         * environment shutting down, where there is nobody to tell. */
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
    }
    napi_close_handle_scope(env, scope);
}

void deliver_transition(void *userdata, const sg_transition *transition)
{
    deliver(userdata, NULL, 0, transition);
}

void deliver_keyed_transition(void *userdata, const uint8_t *key, size_t key_len,
                              const sg_transition *transition)
{
    /* The empty key may come as NULL: give the listener an empty Buffer all the same. */
    static const uint8_t empty[1];
    deliver(userdata, key == NULL ? empty : key, key_len, transition);
}

const struct export listener_exports[] = {
    {"listenerNew", listener_new, NULL},
    {"listenerFree", listener_free, NULL},
    {NULL, NULL, NULL},
};
