package sluicegate

import (
	"runtime"
	"sync"
)

// Permits are made in slabs that share one finalizer. runtime.SetFinalizer costs more than
// the rest of an Acquire and a Record together (it takes a lock and walks a list), and a
// permit is made for every call through a breaker. A slab stays reachable while any of its
// permits is, and once none is, its finalizer releases those dropped unconsumed. The price is
// that one permit held for long keeps its slab's memory (about a kilobyte) with it.
const permitsPerSlab = 64

type permitSlab struct {
	permits [permitsPerSlab]Permit
	used    int // read and written only by the goroutine that took the slab from the pool
}

// permitSlabs holds the slabs with unused permits, per processor, as sync.Pool does.
var permitSlabs = sync.Pool{New: func() interface{} {
	s := new(permitSlab)
	runtime.SetFinalizer(s, (*permitSlab).release)
	return s
}}

// newPermit returns a zero Permit, never handed out before, that a finalizer will release
// if it is dropped unconsumed.
func newPermit() *Permit {
	s := permitSlabs.Get().(*permitSlab)
	p := &s.permits[s.used]
	s.used++
	if s.used < permitsPerSlab {
		permitSlabs.Put(s)
	}
	return p
}

// release is the slab's finalizer: it releases the permits still unconsumed.
func (s *permitSlab) release() {
	for i := 0; i < s.used; i++ {
		s.permits[i].Release()
	}
}
