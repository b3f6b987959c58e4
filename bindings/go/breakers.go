package sluicegate

/*
#include "shim.h"

static sgo_status sgo_breakers_new(const sg_breakers_config *config, uintptr_t listener,
                                   sg_breakers **out)
{
    return sgo_status_of(sg_breakers_new(
        config, listener != 0 ? sgo_on_keyed_transition : NULL, (void *)listener, out));
}

static sgo_admission_result sgo_breakers_acquire(uintptr_t breakers, _GoString_ key)
{
    sgo_admission_result r = {.status = {SG_OK, NULL}};
    r.status = sgo_status_of(
        sg_breakers_acquire(SGO_HANDLE(sg_breakers, breakers), SGO_KEY(key), &r.admission));
    return r;
}

// The operator switches by key: sg_breakers_disable when `disable`, else
// sg_breakers_force_open.
static sgo_status sgo_breakers_switch(const sg_breakers *breakers, _GoString_ key, int disable,
                                      bool *changed)
{
    return sgo_status_of(disable ? sg_breakers_disable(breakers, SGO_KEY(key), changed)
                                 : sg_breakers_force_open(breakers, SGO_KEY(key), changed));
}

// sg_breakers_remove when `remove`, else sg_breakers_reset.
static sg_result sgo_breakers_forget(const sg_breakers *breakers, _GoString_ key, int remove,
                                     bool *was_held)
{
    return remove ? sg_breakers_remove(breakers, SGO_KEY(key), was_held)
                  : sg_breakers_reset(breakers, SGO_KEY(key), was_held);
}

static sg_result sgo_breakers_get_state(const sg_breakers *breakers, _GoString_ key,
                                        sg_state *out)
{
    return sg_breakers_get_state(breakers, SGO_KEY(key), out);
}

static sg_result sgo_breakers_get_counters(const sg_breakers *breakers, _GoString_ key,
                                           sg_breaker_counters *out)
{
    return sg_breakers_get_counters(breakers, SGO_KEY(key), out);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sort"
	"time"
	"unsafe"
)

// BreakersConfig says how to build a registry of breakers by key. Breaker is required; every
// zero field means the default its comment names.
type BreakersConfig struct {
	// Breaker is the configuration of every key's breaker. Its Seed seeds all of them (each
	// key's generator drawn from it and the key) and its Lanes applies to each.
	Breaker BreakerConfig
	// Overrides are keys with a configuration of their own. Their Seed and Lanes are
	// ignored: the registry's apply.
	Overrides map[string]BreakerConfig
	// Shards is the number of shards, a power of two up to 4096; 0 for four per core.
	Shards uint32
	// MaxKeys is the most breakers held at once; 0 for 65,536. A new key at a full shard
	// reclaims an idle breaker or is refused with ErrKeysExhausted.
	MaxKeys uint64
	// IdleAfter is how long a breaker must go without an admission before it may be
	// forgotten; 0 for 5 minutes. Only closed breakers with nothing outstanding are.
	IdleAfter time.Duration
	// MaxKeyLen is the longest key accepted, in bytes (up to 65,536); 0 for 256.
	MaxKeyLen uint32
}

// toC lays the configuration out for the library in mem. Overrides go in key order, so the
// library's messages number them the same way on every run.
func (c *BreakersConfig) toC(op string, mem *cMemory) (C.sg_breakers_config, error) {
	shared, err := layBreaker(op, "Breaker.", &c.Breaker, mem)
	if err != nil {
		return C.sg_breakers_config{}, err
	}
	keys := make([]string, 0, len(c.Overrides))
	for key := range c.Overrides {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	first := (*C.sg_breaker_override)(mem.alloc(uintptr(len(keys)) * C.sizeof_sg_breaker_override))
	overrides := unsafe.Slice(first, len(keys))
	for i, key := range keys {
		override := c.Overrides[key]
		config, err := layBreaker(op, fmt.Sprintf("Overrides[%q].", key), &override, mem)
		if err != nil {
			return C.sg_breakers_config{}, err
		}
		overrides[i] = C.sg_breaker_override{
			key:     (*C.uint8_t)(mem.bytes(key)),
			key_len: C.size_t(len(key)),
			config:  config,
		}
	}
	idle, err := configMicros(op, "IdleAfter", c.IdleAfter)
	if err != nil {
		return C.sg_breakers_config{}, err
	}
	return C.sg_breakers_config{
		struct_size:   C.sizeof_sg_breakers_config,
		shards:        C.uint32_t(c.Shards),
		breaker:       shared,
		overrides:     first,
		overrides_len: C.size_t(len(keys)),
		max_keys:      C.uint64_t(c.MaxKeys),
		idle_after_us: C.uint64_t(idle),
		max_key_len:   C.uint32_t(c.MaxKeyLen),
	}, nil
}

// layBreaker lays one breaker configuration out in mem.
func layBreaker(op, where string, config *BreakerConfig, mem *cMemory) (*C.sg_breaker_config, error) {
	laid, err := config.toC(op, where)
	if err != nil {
		return nil, err
	}
	out := (*C.sg_breaker_config)(mem.alloc(C.sizeof_sg_breaker_config))
	*out = laid
	return out, nil
}

// BreakersStats are a registry's counters and sizes.
type BreakersStats struct {
	// Keys is the number of breakers held now.
	Keys uint64
	// Reclaimed is the number of idle breakers forgotten.
	Reclaimed uint64
	// Refused is the number of new keys refused because the registry was full.
	Refused uint64
	// Bytes is the memory held by the registry's tables, keys and breakers.
	Bytes uint64
}

// Breakers is a registry of circuit breakers by key (an upstream host, a route), each made on
// its key's first use, reading the library's monotonic clock. Idle breakers are forgotten, so
// the registry stays bounded however many keys pass through it.
//
// A Breakers is safe for concurrent use by any number of goroutines, Close included: calls
// already running when Close is called finish normally, and calls after it return
// ErrClosed. Close it when done; one that becomes unreachable unclosed is closed by a
// finalizer, at a time the garbage collector chooses. Permits it issued stay valid after it
// is closed.
type Breakers struct {
	h        handle[C.sg_breakers]
	listener *listenerRef
}

// NewBreakers builds a registry. A configuration the library refuses returns an error
// matching ErrInvalidConfig whose Detail names the setting (and the override, by key).
//
// listener, if not nil, is called with the key for every transition of every breaker, as
// NewBreaker describes for one breaker.
func NewBreakers(config BreakersConfig, listener func(key string, t Transition)) (*Breakers, error) {
	const op = "NewBreakers"
	var mem cMemory
	defer mem.free()
	c, err := config.toC(op, &mem)
	if err != nil {
		return nil, err
	}
	r := &Breakers{}
	if listener != nil {
		r.listener = newListenerRef(listener)
	}
	var ptr *C.sg_breakers
	if status := C.sgo_breakers_new(&c, r.listener.userdata(), &ptr); status.code != C.SG_OK {
		r.listener.release()
		return nil, failure(op, status)
	}
	// The free function must not refer to r: a finalized object in a reference cycle of its
	// own is never finalized.
	listenerRef := r.listener
	r.h.open(ptr, func(p *C.sg_breakers) {
		C.sg_breakers_free(p)
		listenerRef.release()
	})
	runtime.SetFinalizer(r, (*Breakers).Close)
	return r, nil
}

// Close releases the registry; permits still outstanding keep their breakers alive until
// each is consumed. It is idempotent and always returns nil.
func (r *Breakers) Close() error {
	if r != nil {
		r.h.close()
		runtime.SetFinalizer(r, nil)
	}
	return nil
}

func (r *Breakers) hold() (*C.sg_breakers, bool) {
	if r == nil {
		return nil, false
	}
	return r.h.hold()
}

// Acquire asks key's breaker, made if new, to make one call, as Breaker.Acquire does. It
// also fails with ErrKeyTooLong, or ErrKeysExhausted when the key is new and the registry is
// full of busy breakers.
func (r *Breakers) Acquire(key string) (*Permit, error) {
	const op = "Breakers.Acquire"
	ptr, ok := r.hold()
	if !ok {
		return nil, closed(op)
	}
	a := C.sgo_breakers_acquire(address(ptr), key)
	permit, err := admission(op, &a, r.listener)
	r.h.release()
	return permit, err
}

// State is where key's breaker stands; a key the registry does not hold reads StateClosed,
// the state its next call would find. It makes no breaker.
func (r *Breakers) State(key string) (State, error) {
	const op = "Breakers.State"
	ptr, ok := r.hold()
	if !ok {
		return 0, closed(op)
	}
	var s C.sg_state
	code := C.sgo_breakers_get_state(ptr, key, &s)
	r.h.release()
	return State(s), resultError(op, code)
}

// Counters are what key's breaker has counted; a key the registry does not hold has counted
// nothing. It makes no breaker.
func (r *Breakers) Counters(key string) (BreakerCounters, error) {
	const op = "Breakers.Counters"
	ptr, ok := r.hold()
	if !ok {
		return BreakerCounters{}, closed(op)
	}
	var c C.sg_breaker_counters
	code := C.sgo_breakers_get_counters(ptr, key, &c)
	r.h.release()
	return countersFrom(&c), resultError(op, code)
}

// ForceOpen is Breaker.ForceOpen on key's breaker, made if new, so an operator can hold a
// host off before its first call. Forced-open breakers are never forgotten as idle. It fails
// with ErrKeyTooLong or ErrKeysExhausted.
func (r *Breakers) ForceOpen(key string) (changed bool, err error) {
	return r.operate("Breakers.ForceOpen", key, 0)
}

// Disable is Breaker.Disable on key's breaker, made if new. Disabled breakers are never
// forgotten as idle. It fails as ForceOpen does.
func (r *Breakers) Disable(key string) (changed bool, err error) {
	return r.operate("Breakers.Disable", key, 1)
}

func (r *Breakers) operate(op, key string, disable C.int) (bool, error) {
	ptr, ok := r.hold()
	if !ok {
		return false, closed(op)
	}
	var changed C.bool
	status := C.sgo_breakers_switch(ptr, key, disable, &changed)
	r.h.release()
	if status.code != C.SG_OK {
		return false, failure(op, status)
	}
	return bool(changed), nil
}

// Reset is Breaker.Reset on key's breaker, if the registry holds one; wasHeld says whether it
// did. It makes no breaker.
func (r *Breakers) Reset(key string) (wasHeld bool, err error) {
	return r.forget("Breakers.Reset", key, 0)
}

// Remove forgets key's breaker; wasHeld says whether the registry held one. Permits
// outstanding still record into the forgotten breaker; the key's next call starts a new one.
func (r *Breakers) Remove(key string) (wasHeld bool, err error) {
	return r.forget("Breakers.Remove", key, 1)
}

func (r *Breakers) forget(op, key string, remove C.int) (bool, error) {
	ptr, ok := r.hold()
	if !ok {
		return false, closed(op)
	}
	var held C.bool
	code := C.sgo_breakers_forget(ptr, key, remove, &held)
	r.h.release()
	return bool(held), resultError(op, code)
}

// Len is the number of breakers the registry holds.
func (r *Breakers) Len() (int, error) {
	const op = "Breakers.Len"
	ptr, ok := r.hold()
	if !ok {
		return 0, closed(op)
	}
	var n C.size_t
	code := C.sg_breakers_len(ptr, &n)
	r.h.release()
	return int(n), resultError(op, code)
}

// Stats are the registry's counters and sizes.
func (r *Breakers) Stats() (BreakersStats, error) {
	const op = "Breakers.Stats"
	ptr, ok := r.hold()
	if !ok {
		return BreakersStats{}, closed(op)
	}
	var s C.sg_breakers_stats
	code := C.sg_breakers_get_stats(ptr, &s)
	r.h.release()
	return BreakersStats{
		Keys:      uint64(s.keys),
		Reclaimed: uint64(s.reclaimed),
		Refused:   uint64(s.refused),
		Bytes:     uint64(s.bytes),
	}, resultError(op, code)
}
