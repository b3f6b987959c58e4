package sluicegate

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

// cMemory holds what a configuration points to while the library reads it. The library
// copies a configuration when it builds a handle, so everything is freed right after; and the
// memory comes from C because cgo forbids passing C a Go pointer to memory that itself holds
// Go pointers, which a configuration with arrays and nested structs would be.
type cMemory struct {
	blocks []unsafe.Pointer
}

// alloc returns size bytes of C memory, freed by free. (C.malloc never returns nil: cgo
// crashes the program when C is out of memory, as the Go allocator would.)
func (m *cMemory) alloc(size uintptr) unsafe.Pointer {
	if size == 0 {
		size = 1
	}
	block := C.malloc(C.size_t(size))
	m.blocks = append(m.blocks, block)
	return block
}

// bytes copies s into C memory.
func (m *cMemory) bytes(s string) unsafe.Pointer {
	block := m.alloc(uintptr(len(s)))
	copy(unsafe.Slice((*byte)(block), len(s)), s)
	return block
}

// free releases every block.
func (m *cMemory) free() {
	for _, block := range m.blocks {
		C.free(block)
	}
	m.blocks = nil
}
