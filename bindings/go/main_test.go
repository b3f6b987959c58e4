package sluicegate

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run if any handle, listener or permit is left unreleased once every
// test has closed what it opened and the garbage collector has run the finalizers.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !eventually(func() bool { return openHandles.Load() == 0 }) {
		fmt.Fprintf(os.Stderr, "FAIL: %d library handles, listeners or permits were never released\n",
			openHandles.Load())
		code = 1
	}
	os.Exit(code)
}

// eventually runs the garbage collector, and with it the finalizers, until done holds or two
// seconds have passed, and reports whether it held.
func eventually(done func() bool) bool {
	deadline := time.Now().Add(2 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			return false
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	return true
}

// wantError fails the test unless err is an *Error with cause want whose message contains
// detail.
func wantError(t *testing.T, err error, want error, detail string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want one matching %q", err, want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T (%v), want an *Error", err, err)
	}
	if !strings.Contains(e.Detail, detail) {
		t.Fatalf("detail %q does not contain %q", e.Detail, detail)
	}
}

// must fails the test on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
