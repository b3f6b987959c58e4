// Package sluicegate is the Go binding of Sluicegate, an embedded rate limiter and circuit
// breaker: an exact sliding-window-log Limiter over keys, a circuit Breaker for one upstream,
// and a Breakers registry of breakers by key. It calls the library's C interface through cgo.
//
// # Building and loading
//
// The package links against libsluicegate.so, the shared library `cargo build --release`
// leaves in target/release/, with the header from the repository's include/ directory (which
// the package finds by its own path). Tell the linker where the library is at build time and
// the dynamic loader where it is at run time, for example from SLUICEGATE_LIB, the full path
// of the library:
//
//	export CGO_LDFLAGS="-L$(dirname "$SLUICEGATE_LIB")"
//	export LD_LIBRARY_PATH="$(dirname "$SLUICEGATE_LIB")"
//
// Without them the library is found by its usual name, libsluicegate.so, on the linker's and
// the loader's default paths (/usr/local/lib once installed there and ldconfig has run).
// LibraryPath reports which file the loader bound.
//
// # Errors
//
// A failed call returns an *Error carrying the method, a cause and the library's detail
// message. The causes are the library's result codes, each a constant of type Code (such as
// ErrKeyTooLong), and ErrClosed and ErrPermitUsed; errors.Is tells them apart. A rate-limit
// rejection is not an error but a Decision with Allowed false; an open circuit rejects
// Acquire with a *Rejection, which matches ErrRejected.
//
// # Concurrency and lifetime
//
// Limiter, Breaker and Breakers are safe for concurrent use by any number of goroutines, and
// Close may be called while other goroutines are still using them: calls already running
// finish, later calls return ErrClosed. Each is freed by Close, or by a finalizer if it
// becomes unreachable unclosed. A Permit is consumed once, by Record or Release, from any
// goroutine; the garbage collector releases a permit that is dropped unconsumed.
//
// # Durations
//
// The library counts microseconds. Configured durations are rounded up to a whole
// microsecond (so that a positive duration never becomes 0, which means "the default"),
// measured ones (the caller's clock, a call's elapsed time) are truncated, and negative ones
// are refused.
package sluicegate
