package coolbpf

// #include "cbgo.h"
import "C"

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// ABIVersion is the coolbpf.h ABI version this runtime speaks
// (COOLBPF_ABI_VERSION); a bpf.so with another one is refused.
const ABIVersion = 1

// Identity is what a bpf.so must be for the code using it: the ABI version
// and the SHA-256 of the object it embeds (64 lowercase hex digits; empty:
// not checked).
type Identity struct {
	ABIVersion uint32
	SHA256     string
}

// Library is one loaded bpf.so. It is never unloaded: a file rebuilt in
// place is not picked up by a running process (the SHA-256 check says so).
type Library struct {
	// Path is where it was loaded from: the canonical path of the file, or
	// "embedded:<sha256 of the bpf.so bytes>" for an embedded one.
	Path string
	// ABIVersion and ObjectSHA256 are what the bpf.so says of itself.
	ABIVersion   uint32
	ObjectSHA256 string

	lib *C.cbgo_lib

	cpusOnce sync.Once
	cpus     int
	cpusErr  error
}

var (
	librariesMu sync.Mutex
	libraries   = map[string]*Library{}
)

// LoadLibrary loads the bpf.so at path (once per file per process, whatever
// path names it) and checks it is what want says: a missing file is ENOENT,
// a file dlopen refuses ELIBBAD with the loader's reason, a shared object
// without the coolbpf ABI or with another ABI version or object SHA-256
// EMISMATCH naming expected, found and the path.
func LoadLibrary(path string, want Identity) (*Library, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, errnoError(syscall.EINVAL, "LoadLibrary: '%s': %v", path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			errno = syscall.ENOENT
		}
		why := errno.Error()
		if errors.Is(err, fs.ErrNotExist) {
			why = "no such file"
		}
		return nil, errnoError(errno, "LoadLibrary: '%s': %s", abs, why)
	}
	librariesMu.Lock()
	defer librariesMu.Unlock()
	l, ok := libraries[real]
	if !ok {
		l, err = dlopen(real, real)
		if err != nil {
			return nil, err
		}
		libraries[real] = l
	}
	if err := l.check(want, abs); err != nil {
		return nil, err
	}
	return l, nil
}

// LoadEmbedded loads a bpf.so from its bytes (a generated package embeds
// its own): written once per process into a memfd and loaded from there.
// name is used in messages (the package it came from).
func LoadEmbedded(name string, data []byte, want Identity) (*Library, error) {
	sum := sha256.Sum256(data)
	key := "embedded:" + hex.EncodeToString(sum[:])
	librariesMu.Lock()
	defer librariesMu.Unlock()
	l, ok := libraries[key]
	if !ok {
		if len(data) == 0 {
			return nil, errnoError(syscall.ENOENT, "LoadEmbedded: %s: the embedded bpf.so is empty", name)
		}
		cname := cstr("coolbpf:" + name)
		fd := C.cbgo_memfd(cname, unsafe.Pointer(&data[0]), C.size_t(len(data)))
		free(cname)
		if fd < 0 {
			return nil, errnoError(syscall.Errno(-fd), "LoadEmbedded: %s: memfd_create: %v", name, syscall.Errno(-fd))
		}
		// The memfd stays open for the life of the process: glibc knows loaded
		// libraries by the path they were opened with, and a closed fd's
		// number (so its /proc/self/fd path) would come back for the next
		// embedded bpf.so, which would then be taken for this one.
		var err error
		l, err = dlopen(fmt.Sprintf("/proc/self/fd/%d", int(fd)), key)
		if err != nil {
			syscall.Close(int(fd))
			return nil, err
		}
		libraries[key] = l
	}
	if err := l.check(want, name+" (embedded bpf.so)"); err != nil {
		return nil, err
	}
	return l, nil
}

func dlopen(path, key string) (*Library, error) {
	cpath := cstr(path)
	defer free(cpath)
	var why *C.char
	var missing C.int
	lib := C.cbgo_load(cpath, &why, &missing)
	if lib == nil {
		reason := "dlopen failed"
		if why != nil {
			reason = C.GoString(why)
			free(why)
		}
		if missing != 0 {
			return nil, newError(CodeMismatch, "LoadLibrary: '%s' is not a coolbpf bpf.so: it has no %s", key, reason)
		}
		return nil, errnoError(syscall.ELIBBAD, "LoadLibrary: cannot load '%s': %s", key, reason)
	}
	return &Library{
		Path:         key,
		ABIVersion:   uint32(C.cbgo_abi_version(lib)),
		ObjectSHA256: C.GoString(C.cbgo_object_sha256(lib)),
		lib:          lib,
	}, nil
}

func (l *Library) check(want Identity, where string) error {
	if l.ABIVersion != ABIVersion {
		return newError(CodeMismatch, "LoadLibrary: '%s' has coolbpf ABI version %d, this runtime supports %d (rebuild it with the matching coolbpf-gen)",
			where, l.ABIVersion, ABIVersion)
	}
	if want.ABIVersion != 0 && want.ABIVersion != l.ABIVersion {
		return newError(CodeMismatch, "LoadLibrary: '%s' has coolbpf ABI version %d, expected %d (regenerate the code, or rebuild the bpf.so with the matching coolbpf-gen)",
			where, l.ABIVersion, want.ABIVersion)
	}
	if want.SHA256 != "" && strings.ToLower(want.SHA256) != l.ObjectSHA256 {
		return newError(CodeMismatch, "LoadLibrary: '%s' embeds the object with SHA-256 %s, expected %s (the bpf.so was built from another object than the code was generated for)",
			where, l.ObjectSHA256, strings.ToLower(want.SHA256))
	}
	return nil
}

// PossibleCPUs is the number of possible CPUs (/sys/devices/system/cpu/possible):
// the length of every per-CPU value.
func (l *Library) PossibleCPUs() (int, error) {
	l.cpusOnce.Do(func() {
		r, err := result(C.cbgo_num_possible_cpus(l.lib))
		if err != nil {
			l.cpusErr = err
			return
		}
		l.cpus = int(r)
	})
	return l.cpus, l.cpusErr
}

// BPFSOPath is where a generated package looks for bpf.so when the code names
// none: $COOLBPF_BPF_SO, else "" (the embedded copy).
func BPFSOPath() string { return os.Getenv("COOLBPF_BPF_SO") }
