package sluicegate

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"
)

// Code is one of the library's result codes other than success. Each is an error, so every
// failure can be told apart with errors.Is:
//
//	if errors.Is(err, sluicegate.ErrKeyTooLong) { ... }
//
// The numbers are the library's and never change.
type Code uint32

// The library's result codes. ErrNullArgument, ErrUnsupportedStructSize and ErrPanic cannot
// come from correct use of this package; they are here so that every code has a name.
const (
	// ErrNullArgument: a pointer the library needed was NULL.
	ErrNullArgument Code = C.SG_NULL_ARGUMENT
	// ErrInvalidConfig: a configuration was refused; the Error's Detail names the setting.
	ErrInvalidConfig Code = C.SG_INVALID_CONFIG
	// ErrUnsupportedStructSize: the library does not know this configuration layout.
	ErrUnsupportedStructSize Code = C.SG_UNSUPPORTED_STRUCT_SIZE
	// ErrZeroCost: a check with a cost of zero; every request costs at least 1.
	ErrZeroCost Code = C.SG_ZERO_COST
	// ErrCostExceedsLimit: a cost above the smallest window's limit, which no wait admits.
	ErrCostExceedsLimit Code = C.SG_COST_EXCEEDS_LIMIT
	// ErrKeyTooLong: a key longer than the handle's MaxKeyLen.
	ErrKeyTooLong Code = C.SG_KEY_TOO_LONG
	// ErrKeysExhausted: a new key met a handle holding all the keys it may, none reclaimable.
	ErrKeysExhausted Code = C.SG_KEYS_EXHAUSTED
	// ErrStaleOutcome: an outcome reported after its breaker changed state. Permit.Record
	// reports it as its stale result rather than as an error.
	ErrStaleOutcome Code = C.SG_STALE_OUTCOME
	// ErrInvalidArgument: an argument out of range, such as an unknown Outcome.
	ErrInvalidArgument Code = C.SG_INVALID_ARGUMENT
	// ErrPanic: the library caught a panic of its own. Close the handle involved and make a
	// new one.
	ErrPanic Code = C.SG_PANIC
	// ErrWrongTimeBase: a limiter driven by the wrong clock: Check or Peek on one built with
	// TimeBaseCaller, or CheckAt or PeekAt on one built with TimeBaseLibrary.
	ErrWrongTimeBase Code = C.SG_WRONG_TIME_BASE
)

// Error returns the library's short description of the code.
func (c Code) Error() string {
	return "sluicegate: " + C.GoString(C.sg_result_message(C.uint32_t(c)))
}

// ErrClosed is returned by every method of a Limiter, Breaker or Breakers after its Close
// (or when called on a nil one).
var ErrClosed = errors.New("sluicegate: use of a closed or nil handle")

// ErrPermitUsed is returned by Permit.Record on a permit already recorded or released.
var ErrPermitUsed = errors.New("sluicegate: permit already recorded or released")

// Error is a failed call: which method failed, why (a Code, ErrClosed or ErrPermitUsed, for
// errors.Is), and the library's detail message naming the setting or argument at fault.
type Error struct {
	// Op is the method that failed, such as "NewLimiter" or "Limiter.Check".
	Op string
	// Err is the cause: a Code, ErrClosed or ErrPermitUsed.
	Err error
	// Detail is English prose naming what was wrong, such as "window 0: the limit must be at
	// least 1"; empty when the cause says it all.
	Detail string
}

// Error reads "sluicegate: Op: Detail", or names the cause when there is no detail.
func (e *Error) Error() string {
	if e.Detail == "" {
		return "sluicegate: " + e.Op + ": " + strings.TrimPrefix(e.Err.Error(), "sluicegate: ")
	}
	return "sluicegate: " + e.Op + ": " + e.Detail
}

// Unwrap returns the cause, so errors.Is(err, ErrKeyTooLong) and errors.Is(err, ErrClosed)
// work through an *Error.
func (e *Error) Unwrap() error {
	return e.Err
}

// failure is the error for a call whose status is not SG_OK, taking ownership of the detail
// message the shim read for it.
func failure(op string, status C.sgo_status) error {
	detail := ""
	if status.detail != nil {
		detail = C.GoString(status.detail)
		C.free(unsafe.Pointer(status.detail))
	}
	return &Error{Op: op, Err: Code(status.code), Detail: detail}
}

// resultError is the error for a call made without the shim, which only fails on a NULL
// argument this package never passes: it carries the code without a detail.
func resultError(op string, code C.sg_result) error {
	if code == C.SG_OK {
		return nil
	}
	return &Error{Op: op, Err: Code(code)}
}

// closed is the error of a call on a closed or nil handle.
func closed(op string) error {
	return &Error{Op: op, Err: ErrClosed}
}

// invalid is the error for an argument or setting this package refuses before calling the
// library, in the same shape as the library's own refusals.
func invalid(op string, code Code, detail string) error {
	return &Error{Op: op, Err: code, Detail: detail}
}
