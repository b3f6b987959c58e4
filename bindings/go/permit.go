package sluicegate

/*
#include "shim.h"

// sg_permit_record, without a detail message for a stale outcome, which is an answer.
static sgo_status sgo_permit_record(uintptr_t permit, uint32_t outcome, uint64_t elapsed_us)
{
    sg_result code = sg_permit_record(SGO_HANDLE(sg_permit, permit), outcome, elapsed_us);
    if (code == SG_STALE_OUTCOME) {
        sgo_status stale = {code, NULL};
        return stale;
    }
    return sgo_status_of(code);
}

static void sgo_permit_free(uintptr_t permit)
{
    sg_permit_free(SGO_HANDLE(sg_permit, permit));
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Outcome is how a call through a breaker ended, as the caller classifies it. Classify by
// whose fault it was: an upstream that is down, overloaded or timing out is a failure; a
// client's mistake (a 404, a 400) is a success or ignored, or one client's bad requests
// would open the circuit for everyone.
type Outcome uint32

const (
	// OutcomeSuccess: the upstream did its job.
	OutcomeSuccess Outcome = C.SG_OUTCOME_SUCCESS
	// OutcomeFailure: the upstream failed.
	OutcomeFailure Outcome = C.SG_OUTCOME_FAILURE
	// OutcomeIgnored: the call says nothing about the upstream (the client went away, the
	// call was cancelled).
	OutcomeIgnored Outcome = C.SG_OUTCOME_IGNORED
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeFailure:
		return "failure"
	case OutcomeIgnored:
		return "ignored"
	}
	return fmt.Sprintf("Outcome(%d)", uint32(o))
}

// RejectReason is why a breaker rejected a call.
type RejectReason uint32

const (
	// RejectOpen: the circuit is open.
	RejectOpen RejectReason = C.SG_REJECT_OPEN
	// RejectHalfOpenFull: the circuit is half-open and every trial slot is taken.
	RejectHalfOpenFull RejectReason = C.SG_REJECT_HALF_OPEN_FULL
	// RejectForcedOpen: an operator forced the circuit open.
	RejectForcedOpen RejectReason = C.SG_REJECT_FORCED_OPEN
)

// String names the reason.
func (r RejectReason) String() string {
	switch r {
	case RejectOpen:
		return "circuit open"
	case RejectHalfOpenFull:
		return "half-open trial slots full"
	case RejectForcedOpen:
		return "circuit forced open"
	}
	return fmt.Sprintf("RejectReason(%d)", uint32(r))
}

// ErrRejected matches, through errors.Is, every Rejection.
var ErrRejected = errors.New("sluicegate: call rejected by the circuit breaker")

// Rejection is the error Acquire returns when the breaker turns a call away, the usual way Go
// circuit breakers answer: the call must not be made. It says why, and how long until the
// reason stops holding by the clock alone (to send as Retry-After).
type Rejection struct {
	// Reason is why the call was rejected.
	Reason RejectReason
	// RetryAfter is the open circuit's remaining open time, or for full half-open slots the
	// oldest trial's timeout; Forever when only an operator can end it (RejectForcedOpen).
	RetryAfter time.Duration
}

// Error says why, and when to retry.
func (r *Rejection) Error() string {
	if r.RetryAfter == Forever {
		return "sluicegate: call rejected: " + r.Reason.String()
	}
	return fmt.Sprintf("sluicegate: call rejected: %v, retry after %v", r.Reason, r.RetryAfter)
}

// Is reports whether target is ErrRejected.
func (r *Rejection) Is(target error) bool {
	return target == ErrRejected
}

// Permit is leave to make one call through a breaker. End it with exactly one Record, saying
// how the call went; a permit released unrecorded (by Release, or by the garbage collector
// when the permit becomes unreachable) counts as ignored.
//
// A Permit keeps its breaker alive: it may be recorded after the Breaker or Breakers that
// issued it is closed. Record and Release may be called from any goroutine; the first of them
// consumes the permit and later ones do nothing (Record returns ErrPermitUsed).
type Permit struct {
	ptr      atomic.Pointer[C.sg_permit]
	listener *listenerRef
}

// admission turns the library's answer into a Permit or a *Rejection. Call it while the
// issuing handle is held, so its listener reference is still alive to be shared.
func admission(op string, r *C.sgo_admission_result, listener *listenerRef) (*Permit, error) {
	if r.status.code != C.SG_OK {
		return nil, failure(op, r.status)
	}
	a := &r.admission
	if a.permit == nil {
		return nil, &Rejection{
			Reason:     RejectReason(a.reject_reason),
			RetryAfter: fromMicros(uint64(a.retry_after_us)),
		}
	}
	listener.retain()
	openHandles.Add(1)
	p := newPermit()
	p.listener = listener
	p.ptr.Store(a.permit)
	return p, nil
}

// take consumes the permit, returning nil if it was already consumed.
func (p *Permit) take() *C.sg_permit {
	if p == nil {
		return nil
	}
	return p.ptr.Swap(nil)
}

// consumed finishes a taken permit's bookkeeping once the library has consumed it.
func (p *Permit) consumed() {
	p.listener.release()
	openHandles.Add(-1)
}

// Record reports how the call went and how long it took (for the slow-call policy,
// truncated to a whole microsecond), and consumes the permit.
//
// stale is true when the breaker changed state after the permit was admitted (or its
// half-open trial timed out): the outcome then counted only as stale, which is normal under
// concurrency and needs no handling. The errors are ErrPermitUsed for a permit already
// consumed, and ErrInvalidArgument for an unknown outcome or a negative elapsed time, in
// which case the permit is released as Release releases it.
func (p *Permit) Record(outcome Outcome, elapsed time.Duration) (stale bool, err error) {
	const op = "Permit.Record"
	raw := p.take()
	if raw == nil {
		return false, &Error{Op: op, Err: ErrPermitUsed}
	}
	defer p.consumed()
	us, err := measuredMicros(op, "elapsed", elapsed)
	if err != nil {
		C.sgo_permit_free(address(raw))
		return false, err
	}
	switch status := C.sgo_permit_record(address(raw), C.uint32_t(outcome), C.uint64_t(us)); status.code {
	case C.SG_OK:
		return false, nil
	case C.SG_STALE_OUTCOME:
		return true, nil
	default:
		return false, failure(op, status)
	}
}

// Release gives the permit back unrecorded: the call counts as ignored, and its half-open
// trial slot, if it held one, is freed. After Record, or a first Release, it does nothing,
// so `defer permit.Release()` right after Acquire covers every path that does not record.
func (p *Permit) Release() {
	if raw := p.take(); raw != nil {
		C.sgo_permit_free(address(raw))
		p.consumed()
	}
}
