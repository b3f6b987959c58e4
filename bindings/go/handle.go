package sluicegate

// #include <stdint.h>
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// handle owns one library handle that goroutines share. Each call holds it while the call
// runs; Close gives up the owner's hold; whichever hold is given up last frees the handle.
// So Close may race with calls on other goroutines (or be called from a transition listener
// inside a call): calls that got their hold first finish on a live handle, later ones get
// ErrClosed, and none touches freed memory.
type handle[T any] struct {
	ptr  *T
	free func(*T)
	// The holds: calls in flight, plus one while the handle is open; closedBit once closed.
	// Zero for a handle never opened, which holds nothing either.
	holds atomic.Int64
}

const closedBit = int64(1) << 62

// openHandles counts the library handles and listener registrations not yet released, so
// the tests can prove that Close, Release and finalizers release everything.
var openHandles atomic.Int64

// open takes ownership of ptr, which free releases.
func (h *handle[T]) open(ptr *T, free func(*T)) {
	h.ptr = ptr
	h.free = free
	h.holds.Store(1)
	openHandles.Add(1)
}

// hold returns the handle for one call, which must end with release; false once closed.
func (h *handle[T]) hold() (*T, bool) {
	for {
		holds := h.holds.Load()
		if holds == 0 || holds&closedBit != 0 {
			return nil, false
		}
		if h.holds.CompareAndSwap(holds, holds+1) {
			return h.ptr, true
		}
	}
}

// release ends a call's hold, freeing the handle if it was closed meanwhile.
func (h *handle[T]) release() {
	if h.holds.Add(-1) == closedBit {
		h.destroy()
	}
}

// close gives up the owner's hold, freeing the handle unless calls are in flight (the last
// of them frees it). Only the first close does anything.
func (h *handle[T]) close() {
	for {
		holds := h.holds.Load()
		if holds == 0 || holds&closedBit != 0 {
			return
		}
		if h.holds.CompareAndSwap(holds, (holds-1)|closedBit) {
			if holds == 1 {
				h.destroy()
			}
			return
		}
	}
}

func (h *handle[T]) destroy() {
	h.free(h.ptr)
	openHandles.Add(-1)
}

// address is a library pointer as the hot-path shim functions take it (see shim.h).
func address[T any](ptr *T) C.uintptr_t {
	return C.uintptr_t(uintptr(unsafe.Pointer(ptr)))
}
