// Package coolbpf is the Go runtime of coolbpf's generated packages: a
// small layer over the C ABI of a bpf.so (coolbpf.h) that never parses BTF.
//
// A bpf.so is loaded with dlopen from C helpers (cbgo.h), so the file is
// chosen at run time: LoadLibrary(path) or LoadEmbedded(bytes) (generated
// packages embed their bpf.so and write it to a memfd). Everything after
// that goes through an Object: Open → SetInitial/SetAutoload → Load →
// Attach, explicit Attach* calls returning Links, maps by name (RawMap, and
// the typed Map and PerCPUMap over Codecs), data sections (Section, and the
// typed Var), and event readers (RawEvents, and the typed Events with
// Consume, Read, Subscribe and Drain under a context.Context).
//
// Errors are *Error values with a Code (an errno name, or ESTATE,
// EDESTROYED, EMISMATCH) and the bpf.so's message; errors.Is works with the
// sentinels (ErrState, ErrDestroyed, ErrMismatch) and with syscall.Errno.
package coolbpf
