package sluicegate

/*
#include "shim.h"

typedef struct {
    sgo_status status;
    sg_decision decision;
} sgo_decision_result;

// How sgo_limiter_decide decides: whether it records, and whose clock it reads.
enum { SGO_RECORD = 1, SGO_CALLER_TIME = 2 };

// One of sg_limiter_check, sg_limiter_peek and their _now forms, as `how` says.
static sgo_decision_result sgo_limiter_decide(uintptr_t address, _GoString_ key, uint64_t cost,
                                              int how, uint64_t now_us)
{
    const sg_limiter *limiter = SGO_HANDLE(sg_limiter, address);
    sgo_decision_result r = {.status = {SG_OK, NULL}};
    sg_result code;
    if (how & SGO_CALLER_TIME) {
        code = (how & SGO_RECORD)
                   ? sg_limiter_check_now(limiter, SGO_KEY(key), cost, now_us, &r.decision)
                   : sg_limiter_peek_now(limiter, SGO_KEY(key), cost, now_us, &r.decision);
    } else {
        code = (how & SGO_RECORD) ? sg_limiter_check(limiter, SGO_KEY(key), cost, &r.decision)
                                  : sg_limiter_peek(limiter, SGO_KEY(key), cost, &r.decision);
    }
    r.status = sgo_status_of(code);
    return r;
}

// sg_limiter_remove when `remove`, else sg_limiter_reset.
static sg_result sgo_limiter_forget(const sg_limiter *limiter, _GoString_ key, int remove,
                                    bool *was_tracked)
{
    return remove ? sg_limiter_remove(limiter, SGO_KEY(key), was_tracked)
                  : sg_limiter_reset(limiter, SGO_KEY(key), was_tracked);
}

static sgo_status sgo_limiter_new(const sg_limiter_config *config, sg_limiter **out)
{
    return sgo_status_of(sg_limiter_new(config, out));
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"time"
	"unsafe"
)

// Window is one sliding window: at most Limit cost units in any span of Duration.
type Window struct {
	// Limit is the most cost units admitted in any span of the window (1 to 4,294,967,295).
	Limit uint64
	// Duration is the window's length, from a microsecond to 2^52 microseconds (about 142
	// years), rounded up to a whole microsecond.
	Duration time.Duration
}

// TimeBase says where a limiter's time comes from.
type TimeBase uint32

const (
	// TimeBaseLibrary: the library reads its own monotonic clock; use Check and Peek.
	TimeBaseLibrary TimeBase = C.SG_TIME_BASE_LIBRARY
	// TimeBaseCaller: the caller passes the time with every call; use CheckAt and PeekAt.
	TimeBaseCaller TimeBase = C.SG_TIME_BASE_CALLER
)

// String names the time base.
func (t TimeBase) String() string {
	switch t {
	case TimeBaseLibrary:
		return "library"
	case TimeBaseCaller:
		return "caller"
	}
	return fmt.Sprintf("TimeBase(%d)", uint32(t))
}

// FullPolicy says what a full limiter does with a new key once no idle key can be reclaimed.
type FullPolicy uint32

const (
	// FullEvictLeastRecent evicts the key seen least recently, which starts afresh if it
	// comes back: a flood of new keys cannot lock legitimate new clients out. The default.
	FullEvictLeastRecent FullPolicy = C.SG_FULL_EVICT_LEAST_RECENT
	// FullRejectNewKeys refuses new keys with ErrKeysExhausted; no key loses its history.
	FullRejectNewKeys FullPolicy = C.SG_FULL_REJECT_NEW_KEYS
)

// String names the policy.
func (p FullPolicy) String() string {
	switch p {
	case FullEvictLeastRecent:
		return "evict least recent"
	case FullRejectNewKeys:
		return "reject new keys"
	}
	return fmt.Sprintf("FullPolicy(%d)", uint32(p))
}

// LimiterConfig says how to build a Limiter. Windows is required; every zero field means the
// default its comment names.
type LimiterConfig struct {
	// Windows are the windows every request must fit at once: 1 to 8, no two of one length.
	Windows []Window
	// TimeBase is the clock the limiter is driven by; zero is TimeBaseLibrary.
	TimeBase TimeBase
	// MaxKeys is the most keys tracked at once; 0 for 2,097,152.
	MaxKeys uint64
	// Shards is the number of shards, a power of two up to 4096; 0 for four per core.
	Shards uint32
	// MaxKeyLen is the longest key accepted, in bytes (up to 65,536); 0 for 1024.
	MaxKeyLen uint32
	// OnFull is what a full limiter does with a new key; zero is FullEvictLeastRecent.
	OnFull FullPolicy
}

// toC lays the configuration out for the library, its windows in mem.
func (c *LimiterConfig) toC(op string, mem *cMemory) (C.sg_limiter_config, error) {
	n := len(c.Windows)
	first := (*C.sg_window)(mem.alloc(uintptr(n) * C.sizeof_sg_window))
	windows := unsafe.Slice(first, n)
	for i, w := range c.Windows {
		us, err := configMicros(op, fmt.Sprintf("window %d: Duration", i), w.Duration)
		if err != nil {
			return C.sg_limiter_config{}, err
		}
		windows[i] = C.sg_window{limit: C.uint64_t(w.Limit), duration_us: C.uint64_t(us)}
	}
	return C.sg_limiter_config{
		struct_size: C.sizeof_sg_limiter_config,
		time_base:   C.uint32_t(c.TimeBase),
		windows:     first,
		windows_len: C.size_t(n),
		max_keys:    C.uint64_t(c.MaxKeys),
		shards:      C.uint32_t(c.Shards),
		max_key_len: C.uint32_t(c.MaxKeyLen),
		on_full:     C.uint32_t(c.OnFull),
	}, nil
}

// Decision is what the limiter decided for one request, and what a client needs to behave
// well. The numbers describe the binding window, the one with the least remaining (ties go to
// the longer window); an admitted request is already counted in them.
type Decision struct {
	// Allowed is whether the request was admitted (and, for a check, recorded).
	Allowed bool
	// Window is the binding window's index in LimiterConfig.Windows.
	Window int
	// Limit is the binding window's limit.
	Limit uint64
	// Remaining is the units still available in the binding window, after this request if
	// it was admitted.
	Remaining uint64
	// ResetAfter is the time until the binding window's Remaining next grows; 0 if the
	// window is empty.
	ResetAfter time.Duration
	// RetryAfter is, for a rejection, the exact wait after which the same request is
	// admitted if nothing else arrives; 0 when admitted.
	RetryAfter time.Duration
}

func decisionFrom(d *C.sg_decision) Decision {
	return Decision{
		Allowed:    bool(d.allowed),
		Window:     int(d.window),
		Limit:      uint64(d.limit),
		Remaining:  uint64(d.remaining),
		ResetAfter: fromMicros(uint64(d.reset_after_us)),
		RetryAfter: fromMicros(uint64(d.retry_after_us)),
	}
}

// LimiterStats are a limiter's counters and sizes.
type LimiterStats struct {
	// Keys is the number of keys tracked now.
	Keys uint64
	// Allowed is the number of checks admitted.
	Allowed uint64
	// Rejected is the number of checks rejected.
	Rejected uint64
	// Evictions is the number of live keys evicted because the limiter was full.
	Evictions uint64
	// Reclaimed is the number of idle keys (nothing left in any window) freed.
	Reclaimed uint64
	// RefusedKeys is the number of new keys refused because the limiter was full.
	RefusedKeys uint64
	// Bytes is the memory the limiter's tables, keys and logs hold.
	Bytes uint64
}

// Limiter is an exact sliding-window-log rate limiter over keys: each key may use at most
// each window's limit in any span of the window's length. A key is any byte string (Go
// strings hold arbitrary bytes), such as a client address or an API key.
//
// A Limiter is safe for concurrent use by any number of goroutines, Close included: calls
// already running when Close is called finish normally, and calls after it return
// ErrClosed. Close it when done; one that becomes unreachable unclosed is closed by a
// finalizer, at a time the garbage collector chooses.
type Limiter struct {
	h handle[C.sg_limiter]
}

// NewLimiter builds a Limiter. A configuration the library refuses returns an error matching
// ErrInvalidConfig whose Detail names the setting.
func NewLimiter(config LimiterConfig) (*Limiter, error) {
	const op = "NewLimiter"
	var mem cMemory
	defer mem.free()
	c, err := config.toC(op, &mem)
	if err != nil {
		return nil, err
	}
	var ptr *C.sg_limiter
	if status := C.sgo_limiter_new(&c, &ptr); status.code != C.SG_OK {
		return nil, failure(op, status)
	}
	l := &Limiter{}
	l.h.open(ptr, func(p *C.sg_limiter) { C.sg_limiter_free(p) })
	runtime.SetFinalizer(l, (*Limiter).Close)
	return l, nil
}

// Close releases the limiter. It is idempotent and always returns nil.
func (l *Limiter) Close() error {
	if l != nil {
		l.h.close()
		runtime.SetFinalizer(l, nil)
	}
	return nil
}

func (l *Limiter) hold() (*C.sg_limiter, bool) {
	if l == nil {
		return nil, false
	}
	return l.h.hold()
}

// Check checks one request of the given cost for key now, by the library's clock, and
// records it if admitted. A rejection is a Decision with Allowed false, not an error.
//
// It fails with ErrZeroCost, ErrCostExceedsLimit, ErrKeyTooLong, ErrKeysExhausted, ErrClosed,
// or ErrWrongTimeBase on a limiter built with TimeBaseCaller.
func (l *Limiter) Check(key string, cost uint64) (Decision, error) {
	return l.decide("Limiter.Check", key, cost, C.SGO_RECORD, 0)
}

// CheckAt is Check at the caller's time now, read from the caller's own monotonic clock
// (any origin; truncated to a whole microsecond), for a limiter built with TimeBaseCaller.
// Every call on one limiter must read the same clock; a time earlier than one the limiter
// has seen counts as that time.
//
// It fails as Check does, with ErrInvalidArgument for a negative now, and with
// ErrWrongTimeBase on a limiter built with TimeBaseLibrary.
func (l *Limiter) CheckAt(key string, cost uint64, now time.Duration) (Decision, error) {
	return l.decide("Limiter.CheckAt", key, cost, C.SGO_RECORD|C.SGO_CALLER_TIME, now)
}

// Peek is what Check would decide now, recording nothing. An admissible peek reports the
// numbers the check would report after recording.
func (l *Limiter) Peek(key string, cost uint64) (Decision, error) {
	return l.decide("Limiter.Peek", key, cost, 0, 0)
}

// PeekAt is what CheckAt would decide at now, recording nothing.
func (l *Limiter) PeekAt(key string, cost uint64, now time.Duration) (Decision, error) {
	return l.decide("Limiter.PeekAt", key, cost, C.SGO_CALLER_TIME, now)
}

func (l *Limiter) decide(op, key string, cost uint64, how C.int, now time.Duration) (Decision, error) {
	nowUs, err := measuredMicros(op, "now", now)
	if err != nil {
		return Decision{}, err
	}
	ptr, ok := l.hold()
	if !ok {
		return Decision{}, closed(op)
	}
	r := C.sgo_limiter_decide(address(ptr), key, C.uint64_t(cost), how, C.uint64_t(nowUs))
	l.h.release()
	if r.status.code != C.SG_OK {
		return Decision{}, failure(op, r.status)
	}
	return decisionFrom(&r.decision), nil
}

// Reset forgets what key has used, as if it had never been seen, and reports whether the
// limiter tracked it.
func (l *Limiter) Reset(key string) (wasTracked bool, err error) {
	return l.forget("Limiter.Reset", key, 0)
}

// Remove stops tracking key and frees its memory, and reports whether the limiter tracked it.
func (l *Limiter) Remove(key string) (wasTracked bool, err error) {
	return l.forget("Limiter.Remove", key, 1)
}

func (l *Limiter) forget(op, key string, remove C.int) (bool, error) {
	ptr, ok := l.hold()
	if !ok {
		return false, closed(op)
	}
	var tracked C.bool
	code := C.sgo_limiter_forget(ptr, key, remove, &tracked)
	l.h.release()
	return bool(tracked), resultError(op, code)
}

// Len is the number of keys the limiter tracks.
func (l *Limiter) Len() (int, error) {
	const op = "Limiter.Len"
	ptr, ok := l.hold()
	if !ok {
		return 0, closed(op)
	}
	var n C.size_t
	code := C.sg_limiter_len(ptr, &n)
	l.h.release()
	return int(n), resultError(op, code)
}

// Stats are the limiter's counters and sizes.
func (l *Limiter) Stats() (LimiterStats, error) {
	const op = "Limiter.Stats"
	ptr, ok := l.hold()
	if !ok {
		return LimiterStats{}, closed(op)
	}
	var s C.sg_limiter_stats
	code := C.sg_limiter_get_stats(ptr, &s)
	l.h.release()
	return LimiterStats{
		Keys:        uint64(s.keys),
		Allowed:     uint64(s.allowed),
		Rejected:    uint64(s.rejected),
		Evictions:   uint64(s.evictions),
		Reclaimed:   uint64(s.reclaimed),
		RefusedKeys: uint64(s.refused_keys),
		Bytes:       uint64(s.bytes),
	}, resultError(op, code)
}
