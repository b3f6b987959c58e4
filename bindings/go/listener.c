/* listener.c: the C listeners given to the library, handing each transition to Go. */
#include "_cgo_export.h"
#include "shim.h"

void sgo_on_transition(void *userdata, const sg_transition *transition)
{
    sgoDeliverTransition((uintptr_t)userdata, (sg_transition *)transition);
}

void sgo_on_keyed_transition(void *userdata, const uint8_t *key, size_t key_len,
                             const sg_transition *transition)
{
    sgoDeliverKeyedTransition((uintptr_t)userdata, (uint8_t *)key, key_len,
                              (sg_transition *)transition);
}
