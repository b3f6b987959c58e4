/*
 * library.c: opening libsluicegate at run time, and the library's own strings.
 *
 * The library is opened once per process, by the first thread (main or worker) to load the
 * addon; later loads must name the same file. Its functions are looked up by name into `sg`.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

struct sg_api sg;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static char *loaded_from; /* the path given to the load that succeeded */

/* Throws an Error with the code Node gives a failed dlopen. */
static void throw_load_error(napi_env env, const char *path, const char *why)
{
    char message[4096 + 512 + 64];
    snprintf(message, sizeof message, "cannot load the sluicegate library from \"%s\": %s", path,
             why);
    napi_throw_error(env, "ERR_DLOPEN_FAILED", message);
}

/* Opens `path` and looks up every function; on failure fills `why` and changes nothing. */
static bool open_library(const char *path, char *why, size_t why_len)
{
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(why, why_len, "%s", dlerror());
        return false;
    }
    struct sg_api found;
#define SG_API_LOOKUP(name)                                                                    \
    *(void **)&found.name = dlsym(library, "sg_" #name);                                       \
    if (found.name == NULL) {                                                                  \
        snprintf(why, why_len, "it has no function sg_" #name " (an older version?)");        \
        dlclose(library);                                                                      \
        return false;                                                                          \
    }
    SG_FUNCTIONS(SG_API_LOOKUP)
#undef SG_API_LOOKUP
    sg = found;
    return true;
}

/* load(path): opens the library at `path` (a file path, or a name the loader searches for)
 * unless it is open already, and returns its version. */
static napi_value load(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    if (!get_args(env, info, 1, argv, NULL)) {
        return NULL;
    }
    char path[4096];
    size_t path_len = 0;
    if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_len) != napi_ok ||
        path_len + 1 >= sizeof path) {
        napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                              "the library path must be a string shorter than 4096 bytes");
        return NULL;
    }

    char why[512] = "";
    pthread_mutex_lock(&load_lock);
    bool ok = true;
    if (loaded_from == NULL) {
        ok = open_library(path, why, sizeof why);
        if (ok) {
            loaded_from = strdup(path);
        }
    } else if (strcmp(loaded_from, path) != 0) {
        snprintf(why, sizeof why, "this process already loaded it from \"%s\"", loaded_from);
        ok = false;
    }
    pthread_mutex_unlock(&load_lock);
    if (!ok) {
        throw_load_error(env, path, why);
        return NULL;
    }

    napi_value version;
    napi_create_string_utf8(env, sg.version(), NAPI_AUTO_LENGTH, &version);
    return version;
}

bool require_library(napi_env env)
{
    if (sg.version != NULL) {
        return true;
    }
    napi_throw_error(env, "ERR_DLOPEN_FAILED", "the sluicegate library is not loaded");
    return false;
}

/* lastError(): the detail of this thread's last failed call. */
static napi_value last_error(napi_env env, napi_callback_info info)
{
    (void)info;
    if (!require_library(env)) {
        return NULL;
    }
    char small[512];
    size_t len = 0;
    napi_value text;
    sg.last_error(small, sizeof small, &len);
    if (len < sizeof small) {
        napi_create_string_utf8(env, small, len, &text);
        return text;
    }
    char *large = malloc(len + 1);
    if (large == NULL) {
        napi_create_string_utf8(env, small, sizeof small - 1, &text);
        return text;
    }
    sg.last_error(large, len + 1, &len);
    napi_create_string_utf8(env, large, len, &text);
    free(large);
    return text;
}

/* resultMessage(code): the library's short description of a result code. */
static napi_value result_message(napi_env env, napi_callback_info info)
{
    napi_value argv[1];
    uint64_t code = 0;
    if (!require_library(env) || !get_args(env, info, 1, argv, NULL) ||
        !get_whole(env, argv[0], UINT32_MAX, "code", &code)) {
        return NULL;
    }
    napi_value text;
    napi_create_string_utf8(env, sg.result_message((uint32_t)code), NAPI_AUTO_LENGTH, &text);
    return text;
}

const struct export library_exports[] = {
    {"load", load, NULL},
    {"lastError", last_error, NULL},
    {"resultMessage", result_message, NULL},
    {NULL, NULL, NULL},
};
