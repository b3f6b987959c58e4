package sluicegate

/*
#include "shim.h"

static sgo_status sgo_breaker_new(const sg_breaker_config *config, uintptr_t listener,
                                  sg_breaker **out)
{
    return sgo_status_of(sg_breaker_new(config, listener != 0 ? sgo_on_transition : NULL,
                                        (void *)listener, out));
}

static sgo_admission_result sgo_breaker_acquire(uintptr_t breaker)
{
    sgo_admission_result r = {.status = {SG_OK, NULL}};
    r.status = sgo_status_of(sg_breaker_acquire(SGO_HANDLE(sg_breaker, breaker), &r.admission));
    return r;
}
*/
import "C"

import "runtime"

// Breaker is a circuit breaker for one upstream, reading the library's monotonic clock.
// Acquire asks to make a call; the Permit it returns reports how the call went.
//
// A Breaker is safe for concurrent use by any number of goroutines, Close included: calls
// already running when Close is called finish normally, and calls after it return
// ErrClosed. Close it when done; one that becomes unreachable unclosed is closed by a
// finalizer, at a time the garbage collector chooses. Permits it issued stay valid after it
// is closed.
type Breaker struct {
	h        handle[C.sg_breaker]
	listener *listenerRef
}

// NewBreaker builds a Breaker. A configuration the library refuses returns an error matching
// ErrInvalidConfig whose Detail names the setting.
//
// listener, if not nil, is called once for every transition, in generation order, until the
// breaker is closed and its last permit consumed. It runs synchronously inside whichever
// call is delivering transitions (Acquire, Record, an operator switch, on whichever
// goroutine), not always the one that caused the transition, and with no lock held: it may
// call the breaker's methods, Close included (the breaker is then freed once the delivering
// call returns), but should return quickly, as that call waits for it. A panic in it is
// recovered and logged with the standard log package, and the breaker goes on. A listener
// that refers to its own breaker keeps it reachable, so only Close releases it.
func NewBreaker(config BreakerConfig, listener func(Transition)) (*Breaker, error) {
	const op = "NewBreaker"
	c, err := config.toC(op, "")
	if err != nil {
		return nil, err
	}
	b := &Breaker{}
	if listener != nil {
		b.listener = newListenerRef(listener)
	}
	var ptr *C.sg_breaker
	if status := C.sgo_breaker_new(&c, b.listener.userdata(), &ptr); status.code != C.SG_OK {
		b.listener.release()
		return nil, failure(op, status)
	}
	// The free function must not refer to b: a finalized object in a reference cycle of its
	// own is never finalized.
	listenerRef := b.listener
	b.h.open(ptr, func(p *C.sg_breaker) {
		C.sg_breaker_free(p)
		listenerRef.release()
	})
	runtime.SetFinalizer(b, (*Breaker).Close)
	return b, nil
}

// Close releases the caller's hold on the breaker; permits still outstanding keep it alive
// until each is consumed. It is idempotent and always returns nil.
func (b *Breaker) Close() error {
	if b != nil {
		b.h.close()
		runtime.SetFinalizer(b, nil)
	}
	return nil
}

func (b *Breaker) hold() (*C.sg_breaker, bool) {
	if b == nil {
		return nil, false
	}
	return b.h.hold()
}

// Acquire asks to make one call. Closed and disabled breakers admit; an open one rejects
// until its open time is up, then turns half-open and admits this call as the first trial;
// a half-open one admits while a trial slot is free; a forced-open one rejects.
//
// Admitted, it returns a Permit, which the caller must Record (or Release). Rejected, it
// returns a *Rejection, which matches ErrRejected and carries the reason and the time to wait.
// The only other error is ErrClosed.
func (b *Breaker) Acquire() (*Permit, error) {
	const op = "Breaker.Acquire"
	ptr, ok := b.hold()
	if !ok {
		return nil, closed(op)
	}
	r := C.sgo_breaker_acquire(address(ptr))
	permit, err := admission(op, &r, b.listener)
	b.h.release()
	return permit, err
}

// State is where the breaker stands. It only reports: an open breaker whose time is up says
// open until the next Acquire.
func (b *Breaker) State() (State, error) {
	const op = "Breaker.State"
	ptr, ok := b.hold()
	if !ok {
		return 0, closed(op)
	}
	var s C.sg_state
	code := C.sg_breaker_get_state(ptr, &s)
	b.h.release()
	return State(s), resultError(op, code)
}

// Counters are what the breaker has counted since it was built.
func (b *Breaker) Counters() (BreakerCounters, error) {
	const op = "Breaker.Counters"
	ptr, ok := b.hold()
	if !ok {
		return BreakerCounters{}, closed(op)
	}
	var c C.sg_breaker_counters
	code := C.sg_breaker_get_counters(ptr, &c)
	b.h.release()
	return countersFrom(&c), resultError(op, code)
}

// ForceOpen holds the breaker open, rejecting every call, until Reset or Disable. changed is
// false if it was already forced open.
func (b *Breaker) ForceOpen() (changed bool, err error) {
	return b.operate("Breaker.ForceOpen", func(p *C.sg_breaker, changed *C.bool) C.sg_result {
		return C.sg_breaker_force_open(p, changed)
	})
}

// Disable admits every call and keeps counting, but never trips, until Reset or ForceOpen.
// changed is false if it was already disabled.
func (b *Breaker) Disable() (changed bool, err error) {
	return b.operate("Breaker.Disable", func(p *C.sg_breaker, changed *C.bool) C.sg_result {
		return C.sg_breaker_disable(p, changed)
	})
}

// Reset closes the breaker afresh from any state: a new generation (outstanding permits'
// outcomes become stale), empty windows, the backoff back at its base. Counters keep their
// history.
func (b *Breaker) Reset() error {
	_, err := b.operate("Breaker.Reset", func(p *C.sg_breaker, _ *C.bool) C.sg_result {
		return C.sg_breaker_reset(p)
	})
	return err
}

// operate makes one operator call, which may deliver transitions to the listener.
func (b *Breaker) operate(op string, call func(*C.sg_breaker, *C.bool) C.sg_result) (bool, error) {
	ptr, ok := b.hold()
	if !ok {
		return false, closed(op)
	}
	var changed C.bool
	code := call(ptr, &changed)
	b.h.release()
	return bool(changed), resultError(op, code)
}
