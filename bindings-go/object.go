package coolbpf

// #include "cbgo.h"
import "C"

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// State is where an Object is in its life: opened → loaded → attached →
// destroyed.
type State int32

const (
	StateOpened State = iota
	StateLoaded
	StateAttached
	StateDestroyed
)

func (s State) String() string {
	switch s {
	case StateOpened:
		return "opened"
	case StateLoaded:
		return "loaded"
	case StateAttached:
		return "attached"
	case StateDestroyed:
		return "destroyed"
	}
	return "unknown"
}

// OpenOptions are libbpf's options for opening the object.
type OpenOptions struct {
	// BTFPath is the kernel BTF to use instead of /sys/kernel/btf/vmlinux.
	BTFPath string
	// LogLevel: libbpf messages up to this level go to LogFd (0 warnings, 1
	// info, 2 debug).
	LogLevel int
	// LogFd is where libbpf's log goes (2: stderr); 0 or -1: nowhere
	// (failures are reported in the errors either way).
	LogFd int
}

// Object is one opened (and later loaded) BPF object of a bpf.so. It is safe
// for concurrent use: operations on maps, sections, readers and links run
// concurrently; Open/Load/Attach/Close exclude them. After Close every
// method returns an EDESTROYED error (Close and Link.Detach are no-ops), and
// nothing touches the freed memory.
//
// An Object nobody closed is closed by the garbage collector once nothing of
// it (maps, readers, sections, links) is reachable.
type Object struct {
	lib *Library

	mu         sync.RWMutex // held for writing by state changes, for reading by everything else
	c          *C.struct_coolbpf
	state      State
	loadFailed bool
	closing    atomic.Bool
	closed     chan struct{} // closed when Close has finished

	namesMu sync.Mutex
	names   map[string]*C.char // C copies of names, freed by Close

	sections map[string]*Section // guarded by mu (written under the write lock)
	mapsMu   sync.Mutex
	maps     map[string]*RawMap
	readers  sync.Map // *RawEvents → struct{}: woken by Close
}

// Open opens the object embedded in the bpf.so (nothing is loaded into the
// kernel yet).
func (l *Library) Open(opts *OpenOptions) (*Object, error) {
	var o OpenOptions
	if opts != nil {
		o = *opts
	}
	var btf *C.char
	if o.BTFPath != "" {
		btf = cstr(o.BTFPath)
		defer free(btf)
	}
	var c *C.struct_coolbpf
	if _, err := result(C.cbgo_open(l.lib, btf, C.int(o.LogLevel), C.int(o.LogFd), &c)); err != nil {
		return nil, err
	}
	obj := &Object{lib: l, c: c, closed: make(chan struct{}), names: map[string]*C.char{}, sections: map[string]*Section{}, maps: map[string]*RawMap{}}
	runtime.SetFinalizer(obj, (*Object).Close)
	return obj, nil
}

// Library is the bpf.so the object came from.
func (o *Object) Library() *Library { return o.lib }

// State is the object's state now.
func (o *Object) State() State {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.state
}

// cname is a C copy of name that lives as long as the object.
func (o *Object) cname(name string) *C.char {
	o.namesMu.Lock()
	defer o.namesMu.Unlock()
	p, ok := o.names[name]
	if !ok {
		p = cstr(name)
		o.names[name] = p
	}
	return p
}

type need int

const (
	needOpened need = iota
	needLoaded
	needAlive
)

// waitClosed waits for a Close under way to finish (a reader woken by Close
// ends only once the object is closed). Call it without holding o.mu.
func (o *Object) waitClosed() {
	if o.closing.Load() {
		<-o.closed
	}
}

// require says why a call cannot be made now (ESTATE, EDESTROYED), in words
// that say what to do instead; nil when it can. The caller holds o.mu.
func (o *Object) require(n need, what string) *Error {
	if o.state == StateDestroyed {
		return newError(CodeDestroyed, "%s: the object was closed", what)
	}
	switch n {
	case needOpened:
		if o.loadFailed {
			return newError(CodeState, "%s: Load() failed on this object; Close() it and open a new one", what)
		}
		if o.state != StateOpened {
			return newError(CodeState, "%s: the object is already %s; this is possible only between Open() and Load()", what, o.state)
		}
	case needLoaded:
		if o.state == StateOpened {
			if o.loadFailed {
				return newError(CodeState, "%s: Load() failed on this object; Close() it and open a new one", what)
			}
			return newError(CodeState, "%s: the object is not loaded yet; call Load() first", what)
		}
	}
	return nil
}

// SetInitial writes data at offset into the initial contents of a data
// section (".rodata", ".data", ".bss", ".data.foo", …) before load.
func (o *Object) SetInitial(section string, offset int, data []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.require(needOpened, "SetInitial("+section+")"); err != nil {
		return err
	}
	if offset < 0 {
		return errnoError(syscall.ERANGE, "SetInitial: section '%s': negative offset %d", section, offset)
	}
	_, err := result(C.cbgo_set_initial(o.lib.lib, o.c, o.cname(section), C.size_t(offset), bytePtr(data), C.size_t(len(data))))
	runtime.KeepAlive(data)
	return nilIfNone(err)
}

// SetAutoload decides before load whether a program is loaded at all
// (SEC("?…") programs are not, unless turned on here).
func (o *Object) SetAutoload(program string, on bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.require(needOpened, "SetAutoload("+program+")"); err != nil {
		return err
	}
	v := 0
	if on {
		v = 1
	}
	_, err := result(C.cbgo_set_autoload(o.lib.lib, o.c, o.cname(program), C.int(v)))
	return nilIfNone(err)
}

// Load loads every program and creates every map (the verifier runs here).
// A failed Load cannot be retried: Close the object and open a new one.
func (o *Object) Load() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.require(needOpened, "Load()"); err != nil {
		return err
	}
	if _, err := result(C.cbgo_load_obj(o.lib.lib, o.c)); err != nil {
		o.loadFailed = true
		return err
	}
	o.state = StateLoaded
	for _, s := range o.sections {
		s.refresh()
	}
	return nil
}

// Attach attaches every auto-attachable program (the ones whose SEC() names
// a target). A failed Attach leaves the object loaded; it can be retried.
func (o *Object) Attach() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.require(needLoaded, "Attach()"); err != nil {
		return err
	}
	if o.state == StateAttached {
		return newError(CodeState, "Attach(): the object's programs are already attached")
	}
	if _, err := result(C.cbgo_attach(o.lib.lib, o.c)); err != nil {
		return err
	}
	o.state = StateAttached
	return nil
}

// Close detaches and unloads everything and frees the object; it is
// idempotent. Readers waiting for events are woken and end.
func (o *Object) Close() error {
	if !o.closing.CompareAndSwap(false, true) {
		<-o.closed // another Close is under way or done: wait for it
		return nil
	}
	defer close(o.closed)
	o.readers.Range(func(k, _ any) bool {
		k.(*RawEvents).wake()
		return true
	})
	o.mu.Lock()
	defer o.mu.Unlock()
	o.readers.Range(func(k, _ any) bool {
		k.(*RawEvents).release()
		return true
	})
	C.cbgo_destroy(o.lib.lib, o.c)
	o.c = nil
	o.state = StateDestroyed
	for _, s := range o.sections {
		s.refresh()
	}
	o.namesMu.Lock()
	for _, p := range o.names {
		free(p)
	}
	o.names = map[string]*C.char{}
	o.namesMu.Unlock()
	runtime.SetFinalizer(o, nil)
	return nil
}

// nilIfNone turns a nil *Error into a nil error (not a typed nil).
func nilIfNone(e *Error) error {
	if e == nil {
		return nil
	}
	return e
}

// ---- explicit attach ----

// Link is a program attached by one of the Attach* calls. Detach (or Close)
// detaches it; the object's Close releases it too.
type Link struct {
	o       *Object
	id      int
	program string
	mu      sync.Mutex
	done    bool
}

// Program is the name of the program the link attached.
func (l *Link) Program() string { return l.program }

// Attached says whether the link is still attached (not detached, object
// not closed).
func (l *Link) Attached() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.done && l.o.State() != StateDestroyed
}

// Detach detaches the program; a no-op when already detached or when the
// object was closed.
func (l *Link) Detach() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil
	}
	o := l.o
	o.mu.RLock()
	defer o.mu.RUnlock()
	l.done = true
	if o.state == StateDestroyed {
		return nil
	}
	_, err := result(C.cbgo_detach(o.lib.lib, o.c, C.int(l.id)))
	return nilIfNone(err)
}

// Close is Detach (io.Closer, for defer).
func (l *Link) Close() error { return l.Detach() }

func (o *Object) link(program, what string, call func() C.cbgo_ret) (*Link, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if err := o.require(needLoaded, what); err != nil {
		return nil, err
	}
	r, err := result(call())
	if err != nil {
		return nil, err
	}
	return &Link{o: o, id: int(r), program: program}, nil
}

// UprobeTarget says where a uprobe goes: Symbol in Binary (a path; a
// library name is looked up the way libbpf does) plus Offset, or Offset
// alone when Symbol is empty. Pid -1 (or 0, the zero value) means every
// process; Retprobe makes it a uretprobe.
type UprobeTarget struct {
	Binary   string
	Symbol   string
	Offset   uint64
	Pid      int
	Retprobe bool
}

// AttachUprobe attaches a uprobe/uretprobe program.
func (o *Object) AttachUprobe(program string, t UprobeTarget) (*Link, error) {
	return o.link(program, "AttachUprobe("+program+")", func() C.cbgo_ret {
		bin := cstr(t.Binary)
		defer free(bin)
		var sym *C.char
		if t.Symbol != "" {
			sym = cstr(t.Symbol)
			defer free(sym)
		}
		pid := t.Pid
		if pid == 0 {
			pid = -1
		}
		return C.cbgo_attach_uprobe(o.lib.lib, o.c, o.cname(program), bin, sym, C.uint64_t(t.Offset), C.int(pid), cbool(t.Retprobe))
	})
}

// KprobeTarget: Function plus Offset; Retprobe makes it a kretprobe.
type KprobeTarget struct {
	Function string
	Offset   uint64
	Retprobe bool
}

// AttachKprobe attaches a kprobe/kretprobe program.
func (o *Object) AttachKprobe(program string, t KprobeTarget) (*Link, error) {
	return o.link(program, "AttachKprobe("+program+")", func() C.cbgo_ret {
		fn := cstr(t.Function)
		defer free(fn)
		return C.cbgo_attach_kprobe(o.lib.lib, o.c, o.cname(program), fn, C.uint64_t(t.Offset), cbool(t.Retprobe))
	})
}

// AttachTracepoint attaches a tracepoint program to category/name.
func (o *Object) AttachTracepoint(program, category, name string) (*Link, error) {
	return o.link(program, "AttachTracepoint("+program+")", func() C.cbgo_ret {
		cat, n := cstr(category), cstr(name)
		defer free(cat)
		defer free(n)
		return C.cbgo_attach_tracepoint(o.lib.lib, o.c, o.cname(program), cat, n)
	})
}

// AttachRawTracepoint attaches a raw tracepoint program.
func (o *Object) AttachRawTracepoint(program, name string) (*Link, error) {
	return o.link(program, "AttachRawTracepoint("+program+")", func() C.cbgo_ret {
		n := cstr(name)
		defer free(n)
		return C.cbgo_attach_raw_tracepoint(o.lib.lib, o.c, o.cname(program), n)
	})
}

// AttachXDP attaches an XDP program to an interface (XDP_FLAGS_* in flags).
func (o *Object) AttachXDP(program string, ifindex int, flags uint32) (*Link, error) {
	return o.link(program, "AttachXDP("+program+")", func() C.cbgo_ret {
		return C.cbgo_attach_xdp(o.lib.lib, o.c, o.cname(program), C.int(ifindex), C.uint32_t(flags))
	})
}

// AttachTC attaches a tc program to an interface, ingress or egress.
func (o *Object) AttachTC(program string, ifindex int, egress bool) (*Link, error) {
	return o.link(program, "AttachTC("+program+")", func() C.cbgo_ret {
		return C.cbgo_attach_tc(o.lib.lib, o.c, o.cname(program), C.int(ifindex), cbool(egress))
	})
}

// AttachCgroup attaches a cgroup program to the cgroup v2 directory at path.
func (o *Object) AttachCgroup(program, cgroupPath string) (*Link, error) {
	return o.link(program, "AttachCgroup("+program+")", func() C.cbgo_ret {
		p := cstr(cgroupPath)
		defer free(p)
		return C.cbgo_attach_cgroup(o.lib.lib, o.c, o.cname(program), p)
	})
}

// AttachPerfEvent attaches a perf_event program to a perf event fd the
// caller opened (and keeps open).
func (o *Object) AttachPerfEvent(program string, perfEventFd int) (*Link, error) {
	return o.link(program, "AttachPerfEvent("+program+")", func() C.cbgo_ret {
		return C.cbgo_attach_perf_event(o.lib.lib, o.c, o.cname(program), C.int(perfEventFd))
	})
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// ---- data sections ----

// Section is one data section (".rodata", ".data", ".bss", ".data.foo", …):
// before load its initial image, after load the kernel's memory-mapped map
// (read-only for .rodata). Reads and writes go straight to that memory.
type Section struct {
	o    *Object
	name string
	// read-only after load (.rodata, .rodata.*, .kconfig)
	frozen bool
	// the memory for the object's current state (refreshed under o.mu's write lock)
	mem []byte
	err *Error
}

// Section gives access to a data section by its ELF name.
func (o *Object) Section(name string) (*Section, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.sections[name]; ok {
		return s, nil
	}
	if err := o.require(needAlive, "Section("+name+")"); err != nil {
		return nil, err
	}
	s := &Section{o: o, name: name, frozen: strings.HasPrefix(name, ".rodata") || name == ".kconfig"}
	s.refresh()
	if s.err != nil {
		return nil, s.err
	}
	o.sections[name] = s
	return s, nil
}

// refresh fetches the memory for the object's state; o.mu is held for writing.
func (s *Section) refresh() {
	o := s.o
	s.mem, s.err = nil, nil
	if o.state == StateDestroyed {
		return
	}
	var p unsafe.Pointer
	var size C.size_t
	if _, err := result(C.cbgo_data(o.lib.lib, o.c, o.cname(s.name), &p, &size)); err != nil {
		s.err = err
		return
	}
	s.mem = unsafe.Slice((*byte)(p), int(size))
}

// Name is the section's ELF name.
func (s *Section) Name() string { return s.name }

// Size is the section's size in bytes (0 after Close).
func (s *Section) Size() int {
	s.o.mu.RLock()
	defer s.o.mu.RUnlock()
	return len(s.mem)
}

// Writable says whether Write works in the object's current state.
func (s *Section) Writable() bool {
	s.o.mu.RLock()
	defer s.o.mu.RUnlock()
	return s.writable() == nil
}

func (s *Section) writable() *Error {
	o := s.o
	if err := o.require(needAlive, "section "+s.name); err != nil {
		return err
	}
	if s.frozen && o.state != StateOpened {
		return newError(CodeState, "section %s: read-only after load (set it before Load())", s.name)
	}
	return s.err
}

// View calls f with n bytes of the section at offset, under the object's
// read lock (Close waits for it): f must not keep the slice. write asks for
// memory f may write (an ESTATE error for .rodata after load).
func (s *Section) View(offset, n int, write bool, f func(b []byte)) error {
	o := s.o
	o.mu.RLock()
	defer o.mu.RUnlock()
	var err *Error
	if write {
		err = s.writable()
	} else if err = o.require(needAlive, "section "+s.name); err == nil {
		err = s.err
	}
	if err != nil {
		return err
	}
	if offset < 0 || n < 0 || offset+n > len(s.mem) {
		return errnoError(syscall.ERANGE, "section %s: %d bytes at offset %d do not fit in its %d bytes", s.name, n, offset, len(s.mem))
	}
	f(s.mem[offset : offset+n : offset+n])
	return nil
}

// Read copies len(dst) bytes at offset out of the section.
func (s *Section) Read(offset int, dst []byte) error {
	return s.View(offset, len(dst), false, func(b []byte) { copy(dst, b) })
}

// Write copies src into the section at offset: before load into the initial
// image (as SetInitial), after load into the live map (not .rodata).
func (s *Section) Write(offset int, src []byte) error {
	return s.View(offset, len(src), true, func(b []byte) { copy(b, src) })
}
