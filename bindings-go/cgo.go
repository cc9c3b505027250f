package coolbpf

/*
#cgo CFLAGS: -D_GNU_SOURCE
#cgo LDFLAGS: -ldl
#include "cbgo.h"
*/
import "C"

import (
	"strings"
	"syscall"
	"unsafe"
)

// result checks what a call returned: r, or the *Error it failed with
// (the C message freed).
func result(ret C.cbgo_ret) (int64, *Error) {
	r := int64(ret.r)
	if r >= 0 {
		return r, nil
	}
	msg := ""
	if ret.msg != nil {
		msg = C.GoString(ret.msg)
		C.free(unsafe.Pointer(ret.msg))
	}
	errno := syscall.Errno(ret.errnum)
	if errno == 0 {
		errno = syscall.Errno(-r)
	}
	summary, detail := msg, ""
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		summary, detail = msg[:i], msg[i+1:]
	}
	if summary == "" {
		summary = errno.Error()
	}
	return r, &Error{Code: errnoCode(errno), Errno: errno, Message: summary, Detail: detail}
}

// cstr is a NUL-terminated C copy of s, to be freed with C.free.
func cstr(s string) *C.char { return C.CString(s) }

func free(p *C.char) { C.free(unsafe.Pointer(p)) }

// bytePtr is the address of b's first byte, or nil for an empty slice.
func bytePtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}
