package coolbpf

import (
	"errors"
	"fmt"
	"syscall"
)

// Code names what kind of failure an *Error is: an errno name ("ENOENT",
// "EACCES", …) for failures the kernel, libbpf or the system reported, or one
// of coolbpf's own: ESTATE, EDESTROYED, EMISMATCH.
type Code string

const (
	// CodeState: a call out of order (before load, after load, twice, …).
	CodeState Code = "ESTATE"
	// CodeDestroyed: the object was closed.
	CodeDestroyed Code = "EDESTROYED"
	// CodeMismatch: a bpf.so other than the one the code was generated for
	// (ABI version or object SHA-256), or types that do not fit a map.
	CodeMismatch Code = "EMISMATCH"
)

// Error is every failure of the runtime and of generated code. Message is
// the first line of what the bpf.so said (naming the program, map or
// section, the errno and the reason); Detail is the rest (for a verifier
// rejection, the tail of the verifier log). Errno is 0 for coolbpf's own
// codes.
//
// Test with errors.Is: against the sentinels (ErrState, ErrDestroyed,
// ErrMismatch, or any *Error with only a Code), against a syscall.Errno
// (errors.Is(err, syscall.EEXIST)), or against os.ErrNotExist and friends.
type Error struct {
	Code    Code
	Errno   syscall.Errno
	Message string
	Detail  string
}

// Sentinels for errors.Is.
var (
	ErrState     = &Error{Code: CodeState}
	ErrDestroyed = &Error{Code: CodeDestroyed}
	ErrMismatch  = &Error{Code: CodeMismatch}
)

func (e *Error) Error() string {
	s := e.Message
	if s == "" {
		s = string(e.Code)
	}
	if e.Detail != "" {
		s += "\n" + e.Detail
	}
	return s
}

// Is matches an *Error with the same Code (a sentinel), or the Errno.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case *Error:
		return t.Code == e.Code
	case syscall.Errno:
		return e.Errno != 0 && t == e.Errno
	}
	return false
}

// Unwrap gives the Errno (nil for coolbpf's own codes), so os.ErrNotExist
// and the like match too.
func (e *Error) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func errnoError(errno syscall.Errno, format string, args ...any) *Error {
	return &Error{Code: errnoCode(errno), Errno: errno, Message: fmt.Sprintf(format, args...)}
}

// AsError is errors.As for *Error: the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// errnoCode is the name of an errno ("ENOENT"), or "E<n>" for one without.
func errnoCode(e syscall.Errno) Code {
	if e > 0 && int(e) < len(errnoNames) && errnoNames[e] != "" {
		return Code(errnoNames[e])
	}
	if e == 524 {
		return "ENOTSUPP" // the kernel's own, not in libc
	}
	return Code(fmt.Sprintf("E%d", int(e)))
}

// Linux errno names (asm-generic), by number.
var errnoNames = [...]string{
	1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 8: "ENOEXEC", 9: "EBADF",
	10: "ECHILD", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 15: "ENOTBLK", 16: "EBUSY", 17: "EEXIST",
	18: "EXDEV", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 25: "ENOTTY",
	26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS", 31: "EMLINK", 32: "EPIPE", 33: "EDOM",
	34: "ERANGE", 35: "EDEADLK", 36: "ENAMETOOLONG", 37: "ENOLCK", 38: "ENOSYS", 39: "ENOTEMPTY", 40: "ELOOP",
	42: "ENOMSG", 43: "EIDRM", 44: "ECHRNG", 45: "EL2NSYNC", 46: "EL3HLT", 47: "EL3RST", 48: "ELNRNG", 49: "EUNATCH",
	50: "ENOCSI", 51: "EL2HLT", 52: "EBADE", 53: "EBADR", 54: "EXFULL", 55: "ENOANO", 56: "EBADRQC", 57: "EBADSLT",
	59: "EBFONT", 60: "ENOSTR", 61: "ENODATA", 62: "ETIME", 63: "ENOSR", 64: "ENONET", 65: "ENOPKG", 66: "EREMOTE",
	67: "ENOLINK", 68: "EADV", 69: "ESRMNT", 70: "ECOMM", 71: "EPROTO", 72: "EMULTIHOP", 73: "EDOTDOT", 74: "EBADMSG",
	75: "EOVERFLOW", 76: "ENOTUNIQ", 77: "EBADFD", 78: "EREMCHG", 79: "ELIBACC", 80: "ELIBBAD", 81: "ELIBSCN",
	82: "ELIBMAX", 83: "ELIBEXEC", 84: "EILSEQ", 85: "ERESTART", 86: "ESTRPIPE", 87: "EUSERS", 88: "ENOTSOCK",
	89: "EDESTADDRREQ", 90: "EMSGSIZE", 91: "EPROTOTYPE", 92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT",
	94: "ESOCKTNOSUPPORT", 95: "EOPNOTSUPP", 96: "EPFNOSUPPORT", 97: "EAFNOSUPPORT", 98: "EADDRINUSE",
	99: "EADDRNOTAVAIL", 100: "ENETDOWN", 101: "ENETUNREACH", 102: "ENETRESET", 103: "ECONNABORTED",
	104: "ECONNRESET", 105: "ENOBUFS", 106: "EISCONN", 107: "ENOTCONN", 108: "ESHUTDOWN", 109: "ETOOMANYREFS",
	110: "ETIMEDOUT", 111: "ECONNREFUSED", 112: "EHOSTDOWN", 113: "EHOSTUNREACH", 114: "EALREADY",
	115: "EINPROGRESS", 116: "ESTALE", 117: "EUCLEAN", 118: "ENOTNAM", 119: "ENAVAIL", 120: "EISNAM",
	121: "EREMOTEIO", 122: "EDQUOT", 123: "ENOMEDIUM", 124: "EMEDIUMTYPE", 125: "ECANCELED", 126: "ENOKEY",
	127: "EKEYEXPIRED", 128: "EKEYREVOKED", 129: "EKEYREJECTED", 130: "EOWNERDEAD", 131: "ENOTRECOVERABLE",
	132: "ERFKILL", 133: "EHWPOISON",
}

// InvalidArgument is an EINVAL *Error with the message given (for generated
// code's checks of its options).
func InvalidArgument(format string, args ...any) error {
	return errnoError(syscall.EINVAL, format, args...)
}
