package sluicegate

/*
#cgo CFLAGS: -I${SRCDIR}/../../include -D_GNU_SOURCE
#cgo LDFLAGS: -lsluicegate
#include <dlfcn.h>
#include "sluicegate.h"

// The file the dynamic loader took sg_version from, or NULL when it cannot tell.
static const char *sgo_library_path(void)
{
    Dl_info info;
    if (dladdr((void *)sg_version, &info) != 0 && info.dli_fname != NULL) {
        return info.dli_fname;
    }
    return NULL;
}
*/
import "C"

// Version is the version of the loaded library, "MAJOR.MINOR.PATCH".
func Version() string {
	return C.GoString(C.sg_version())
}

// LibraryPath is the file the dynamic loader bound libsluicegate from, as it was opened (for
// the executable's own path when the library is linked statically), or "" when the loader
// cannot tell. It answers "which library is this process running?" when a deployment holds
// more than one.
func LibraryPath() string {
	path := C.sgo_library_path()
	if path == nil {
		return ""
	}
	return C.GoString(path)
}
