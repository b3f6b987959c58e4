package sluicegate

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestVersionIsSemantic(t *testing.T) {
	if v := Version(); !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		t.Fatalf("Version() = %q", v)
	}
}

// The tests run against the library SLUICEGATE_LIB names, not another one the loader found.
func TestLibraryPathIsTheLibraryUnderTest(t *testing.T) {
	got := LibraryPath()
	if got == "" {
		t.Fatal("LibraryPath() is empty")
	}
	want := os.Getenv("SLUICEGATE_LIB")
	if want == "" {
		t.Skipf("SLUICEGATE_LIB is not set; the loader bound %s", got)
	}
	resolve := func(path string) string {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			t.Fatalf("resolving %s: %v", path, err)
		}
		return resolved
	}
	if resolve(got) != resolve(want) {
		t.Fatalf("the loader bound %s, but SLUICEGATE_LIB is %s", got, want)
	}
}
