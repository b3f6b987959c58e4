package sluicegate

/*
#include <stdint.h>
#include "sluicegate.h"
*/
import "C"

import (
	"log"
	"runtime/cgo"
	"runtime/debug"
	"sync/atomic"
	"unsafe"
)

// A transition listener is Go code that the library calls from inside a call: the C side
// (listener.c) hands each transition to the exported functions below, with the listener
// found through a cgo.Handle passed to the library as its userdata.

// listenerRef keeps a listener's cgo.Handle alive for exactly as long as the library may
// call it: until its breaker or registry is freed and every permit handed out is recorded or
// released. The owner holds one reference and each outstanding permit another; the last to
// let go deletes the handle.
type listenerRef struct {
	handle cgo.Handle
	refs   atomic.Int64
}

// newListenerRef registers fn, a func(Transition) or a func(string, Transition); nil for a
// nil fn, whose methods all do nothing.
func newListenerRef(fn interface{}) *listenerRef {
	r := &listenerRef{handle: cgo.NewHandle(fn)}
	r.refs.Store(1)
	openHandles.Add(1)
	return r
}

// userdata is the handle as the library's userdata; 0, meaning no listener, for nil.
func (r *listenerRef) userdata() C.uintptr_t {
	if r == nil {
		return 0
	}
	return C.uintptr_t(r.handle)
}

// retain takes a reference for a permit; the caller must already hold one.
func (r *listenerRef) retain() {
	if r != nil {
		r.refs.Add(1)
	}
}

// release gives up a reference, deleting the handle with the last.
func (r *listenerRef) release() {
	if r != nil && r.refs.Add(-1) == 0 {
		r.handle.Delete()
		openHandles.Add(-1)
	}
}

//export sgoDeliverTransition
func sgoDeliverTransition(userdata C.uintptr_t, t *C.sg_transition) {
	defer recoverListenerPanic()
	listener := cgo.Handle(userdata).Value().(func(Transition))
	listener(transitionFrom(t))
}

//export sgoDeliverKeyedTransition
func sgoDeliverKeyedTransition(userdata C.uintptr_t, key *C.uint8_t, keyLen C.size_t, t *C.sg_transition) {
	defer recoverListenerPanic()
	listener := cgo.Handle(userdata).Value().(func(string, Transition))
	listener(C.GoStringN((*C.char)(unsafe.Pointer(key)), C.int(keyLen)), transitionFrom(t))
}

// recoverListenerPanic stops a listener's panic at the boundary: unwinding through the
// library's frames would skip its cleanup and leave its state undefined. The panic is logged
// with its stack, as net/http logs a panicking handler, and the breaker goes on.
func recoverListenerPanic() {
	if v := recover(); v != nil {
		log.Printf("sluicegate: a transition listener panicked: %v\n%s", v, debug.Stack())
	}
}
