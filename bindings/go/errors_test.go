package sluicegate

import (
	"errors"
	"strings"
	"testing"
)

func TestEveryCodeHasTheLibrarysMessage(t *testing.T) {
	codes := []Code{
		ErrNullArgument, ErrInvalidConfig, ErrUnsupportedStructSize, ErrZeroCost,
		ErrCostExceedsLimit, ErrKeyTooLong, ErrKeysExhausted, ErrStaleOutcome,
		ErrInvalidArgument, ErrPanic, ErrWrongTimeBase,
	}
	seen := map[string]bool{}
	for i, code := range codes {
		if uint32(code) != uint32(i+1) {
			t.Fatalf("code %v has number %d, want %d", code, uint32(code), i+1)
		}
		text := code.Error()
		if !strings.HasPrefix(text, "sluicegate: ") || strings.Contains(text, "unknown") || seen[text] {
			t.Fatalf("code %d reads %q", uint32(code), text)
		}
		seen[text] = true
	}
	if got := Code(4242).Error(); got != "sluicegate: unknown result code" {
		t.Fatalf("Code(4242).Error() = %q", got)
	}
}

func TestErrorSaysWhatFailedAndMatchesItsCause(t *testing.T) {
	withDetail := &Error{Op: "Limiter.Check", Err: ErrKeyTooLong, Detail: "key of 5 bytes"}
	if got := withDetail.Error(); got != "sluicegate: Limiter.Check: key of 5 bytes" {
		t.Fatalf("Error() = %q", got)
	}
	withoutDetail := &Error{Op: "Limiter.Len", Err: ErrClosed}
	if got := withoutDetail.Error(); got != "sluicegate: Limiter.Len: use of a closed or nil handle" {
		t.Fatalf("Error() = %q", got)
	}
	if !errors.Is(withDetail, ErrKeyTooLong) || errors.Is(withDetail, ErrZeroCost) {
		t.Fatal("errors.Is does not follow the cause")
	}
	var code Code
	if !errors.As(withDetail, &code) || code != ErrKeyTooLong {
		t.Fatalf("errors.As found code %v", code)
	}
}
