/*
 * shim.h: the C side of the Go binding.
 *
 * Each sgo_ function makes one library call. When the call fails it also reads the call's
 * detail message, in the same cgo call and so on the same thread: sg_last_error is per thread,
 * and Go may move a goroutine to another thread between two cgo calls. The message comes back
 * in memory from malloc, which the Go side frees.
 *
 * The calls on the hot path (checks, admissions, outcomes) avoid the two ways a cgo call
 * allocates. Their outputs come back by value: a pointer that Go hands to C escapes to the
 * heap. And they take their handle as a uintptr_t address: cgo declares the library's opaque
 * types "not in heap", and its pointer check boxes a pointer to such a type in an interface,
 * which allocates.
 */
#ifndef SLUICEGATE_GO_SHIM_H
#define SLUICEGATE_GO_SHIM_H

#include <stdint.h>
#include <stdlib.h>

#include "sluicegate.h"

/* What a call returned, and on failure the calling thread's detail message (or NULL). */
typedef struct {
    sg_result code;
    char *detail;
} sgo_status;

static inline sgo_status sgo_status_of(sg_result code)
{
    sgo_status status = {code, NULL};
    size_t len = 0;
    if (code != SG_OK && sg_last_error(NULL, 0, &len) == SG_OK) {
        status.detail = malloc(len + 1);
        if (status.detail != NULL) {
            sg_last_error(status.detail, len + 1, &len);
        }
    }
    return status;
}

/* What an admission returned. */
typedef struct {
    sgo_status status;
    sg_admission admission;
} sgo_admission_result;

/* A handle passed as an address, back as its pointer. */
#define SGO_HANDLE(type, address) ((type *)(address))

/* A Go string as the library's (bytes, length) pair. */
#define SGO_KEY(key) (const uint8_t *)_GoStringPtr(key), _GoStringLen(key)

/* The C listeners that hand transitions to Go (listener.c); the userdata is a cgo.Handle. */
void sgo_on_transition(void *userdata, const sg_transition *transition);
void sgo_on_keyed_transition(void *userdata, const uint8_t *key, size_t key_len,
                             const sg_transition *transition);

#endif /* SLUICEGATE_GO_SHIM_H */
