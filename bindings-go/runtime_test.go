package coolbpf

// The runtime against the running kernel, through the bpf.so of
// packages/runtime-tests/bpf/rt.bpf.c ($COOLBPF_RT_SO; a second bpf.so,
// another object's, in $COOLBPF_RT_SO2). generators/go's runtime.test.ts
// builds both with coolbpf-gen and runs this with them; without them (or
// without root) the kernel tests skip, saying why.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"coolbpf.local/coolbpf/internal/rttarget"
)

// ---- the test object's layout (rt.bpf.c) ----

type rtEvent struct {
	Kind, Tag, Pid, CPU uint32
	Value, Flag         uint64
}

var rtEventCodec = Codec[rtEvent]{
	Size: 32,
	Decode: func(b []byte, v *rtEvent) {
		le := binary.LittleEndian
		*v = rtEvent{le.Uint32(b), le.Uint32(b[4:]), le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint64(b[16:]), le.Uint64(b[24:])}
	},
	Encode: func(b []byte, v *rtEvent) {
		le := binary.LittleEndian
		le.PutUint32(b, v.Kind)
		le.PutUint32(b[4:], v.Tag)
		le.PutUint32(b[8:], v.Pid)
		le.PutUint32(b[12:], v.CPU)
		le.PutUint64(b[16:], v.Value)
		le.PutUint64(b[24:], v.Flag)
	},
}

type kvValue struct {
	A    uint64
	B    uint32
	Name [8]byte
}

var kvCodec = Codec[kvValue]{
	Size: 24,
	Decode: func(b []byte, v *kvValue) {
		v.A = binary.LittleEndian.Uint64(b)
		v.B = binary.LittleEndian.Uint32(b[8:])
		copy(v.Name[:], b[12:20])
	},
	Encode: func(b []byte, v *kvValue) {
		binary.LittleEndian.PutUint64(b, v.A)
		binary.LittleEndian.PutUint32(b[8:], v.B)
		copy(b[12:20], v.Name[:])
	},
}

var (
	u32Codec = Codec[uint32]{Size: 4, Decode: func(b []byte, v *uint32) { *v = binary.LittleEndian.Uint32(b) }, Encode: func(b []byte, v *uint32) { binary.LittleEndian.PutUint32(b, *v) }}
	u64Codec = Codec[uint64]{Size: 8, Decode: func(b []byte, v *uint64) { *v = binary.LittleEndian.Uint64(b) }, Encode: func(b []byte, v *uint64) { binary.LittleEndian.PutUint64(b, *v) }}
)

const (
	kindTP     = 1
	kindTPBTF  = 2
	kindRawTP  = 3
	kindUprobe = 4
	testTag    = 0xC001
)

// ---- helpers ----

func rtSO(t *testing.T) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("loading BPF needs root")
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("the kernel has no BTF")
	}
	p := os.Getenv("COOLBPF_RT_SO")
	if p == "" {
		t.Skip("COOLBPF_RT_SO does not name the bpf.so of rt.bpf.c (generators/go's runtime.test.ts builds it)")
	}
	return p
}

func lib(t *testing.T) *Library {
	t.Helper()
	l, err := LoadLibrary(rtSO(t), Identity{ABIVersion: ABIVersion})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantCode(t *testing.T, what string, err error, code Code) *Error {
	t.Helper()
	e := AsError(err)
	if e == nil || e.Code != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
	return e
}

func u32b(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }

// open opens the object with .rodata set for this process (target_tgid at
// 0, tag at 4).
func open(t *testing.T) *Object {
	t.Helper()
	o, err := lib(t).Open(nil)
	check(t, err)
	t.Cleanup(func() { _ = o.Close() })
	check(t, o.SetInitial(".rodata", 0, u32b(uint32(os.Getpid()))))
	check(t, o.SetInitial(".rodata", 4, u32b(testTag)))
	return o
}

func loaded(t *testing.T) *Object {
	t.Helper()
	o := open(t)
	check(t, o.Load())
	return o
}

// The programs act for this process (tgid): any thread may trigger them.
func getppid(n int) {
	for i := 0; i < n; i++ {
		syscall.Getppid()
	}
}
func getpgid()     { _, _ = syscall.Getpgid(0) }
func getsid()      { _, _, _ = syscall.RawSyscall(syscall.SYS_GETSID, 0, 0, 0) }
func fdCount() int { e, _ := os.ReadDir("/proc/self/fd"); return len(e) }

// ---- without the kernel ----

func TestHeaderIsTheABIs(t *testing.T) {
	canonical := filepath.Join("..", "packages", "runtime-c", "include", "coolbpf.h")
	want, err := os.ReadFile(canonical)
	if err != nil {
		t.Skipf("no %s (not in the coolbpf repository)", canonical)
	}
	got, err := os.ReadFile("coolbpf.h")
	check(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("coolbpf.h differs from %s: copy it here", canonical)
	}
	if !bytes.Contains(want, []byte(fmt.Sprintf("#define COOLBPF_ABI_VERSION %d\n", ABIVersion))) {
		t.Fatalf("ABIVersion %d is not coolbpf.h's", ABIVersion)
	}
}

func TestErrorsAreValues(t *testing.T) {
	e := &Error{Code: "EEXIST", Errno: syscall.EEXIST, Message: "map_update: map 'm' (BPF_NOEXIST: the key exists)", Detail: "more"}
	if !errors.Is(e, syscall.EEXIST) || !errors.Is(e, os.ErrExist) || !errors.Is(e, &Error{Code: "EEXIST"}) {
		t.Errorf("errors.Is fails on %v", e)
	}
	if errors.Is(e, ErrState) || errors.Is(e, syscall.ENOENT) {
		t.Errorf("errors.Is matches what it should not")
	}
	if e.Error() != "map_update: map 'm' (BPF_NOEXIST: the key exists)\nmore" {
		t.Errorf("Error(): %q", e.Error())
	}
	var wrapped error = fmt.Errorf("context: %w", newError(CodeDestroyed, "x"))
	if !errors.Is(wrapped, ErrDestroyed) || AsError(wrapped).Code != CodeDestroyed || AsError(wrapped).Unwrap() != nil {
		t.Errorf("a wrapped EDESTROYED is not found")
	}
	for n, want := range map[syscall.Errno]Code{1: "EPERM", 2: "ENOENT", 13: "EACCES", 95: "EOPNOTSUPP", 524: "ENOTSUPP", 600: "E600"} {
		if got := errnoCode(n); got != want {
			t.Errorf("errnoCode(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestCStrings(t *testing.T) {
	var b [4]byte
	check(t, SetCString(b[:], "abc"))
	if CStringLen(b[:]) != 3 || string(b[:3]) != "abc" || b[3] != 0 {
		t.Errorf("%q", b)
	}
	check(t, SetCString(b[:], "abcd")) // exactly n bytes: no NUL, as char[n] allows
	if CStringLen(b[:]) != 4 {
		t.Errorf("%q", b)
	}
	wantCode(t, "too long", SetCString(b[:], "abcde"), "ERANGE")
	if string(b[:]) != "abcd" {
		t.Errorf("a refused string changed the bytes: %q", b)
	}
	x := Int128{Lo: ^uint64(0), Hi: -1}
	if x.String() != "-1" || (Uint128{Lo: 1, Hi: 1}).String() != "18446744073709551617" {
		t.Errorf("128-bit: %s %s", x, Uint128{Lo: 1, Hi: 1})
	}
}

// ---- libraries ----

func TestLibrary(t *testing.T) {
	path := rtSO(t)
	dir := t.TempDir()
	_, err := LoadLibrary(filepath.Join(dir, "none.so"), Identity{})
	if e := wantCode(t, "a missing file", err, "ENOENT"); e != nil && !strings.Contains(e.Message, filepath.Join(dir, "none.so")) {
		t.Errorf("%v does not name the path", e)
	}
	check(t, os.WriteFile(filepath.Join(dir, "junk.so"), []byte("not an ELF file"), 0o644))
	_, err = LoadLibrary(filepath.Join(dir, "junk.so"), Identity{})
	wantCode(t, "not a shared object", err, "ELIBBAD")
	for _, other := range []string{"/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1"} {
		if _, err := os.Stat(other); err == nil {
			_, err = LoadLibrary(other, Identity{})
			if e := wantCode(t, "a shared object without the ABI", err, CodeMismatch); e != nil && !strings.Contains(e.Message, "coolbpf_") {
				t.Errorf("%v does not say what is missing", e)
			}
			break
		}
	}
	l, err := LoadLibrary(path, Identity{ABIVersion: ABIVersion})
	check(t, err)
	if len(l.ObjectSHA256) != 64 || l.ABIVersion != ABIVersion {
		t.Errorf("identity: %+v", l)
	}
	_, err = LoadLibrary(path, Identity{SHA256: strings.Repeat("ab", 32)})
	if e := wantCode(t, "another object", err, CodeMismatch); e != nil {
		for _, s := range []string{l.ObjectSHA256, strings.Repeat("ab", 32), path} {
			if !strings.Contains(e.Message, s) {
				t.Errorf("%q does not name %s", e.Message, s)
			}
		}
	}
	_, err = LoadLibrary(path, Identity{ABIVersion: 99})
	wantCode(t, "another ABI version", err, CodeMismatch)
	// one Library per file, whatever path names it
	link := filepath.Join(dir, "link.so")
	check(t, os.Symlink(path, link))
	l2, err := LoadLibrary(link, Identity{SHA256: l.ObjectSHA256})
	check(t, err)
	if l2 != l {
		t.Errorf("two Libraries for one file")
	}
	cpus, err := l.PossibleCPUs()
	check(t, err)
	if cpus < 1 {
		t.Errorf("%d possible CPUs", cpus)
	}
}

func TestEmbeddedLibraries(t *testing.T) {
	path := rtSO(t)
	other := os.Getenv("COOLBPF_RT_SO2")
	if other == "" {
		t.Skip("COOLBPF_RT_SO2 does not name a second bpf.so")
	}
	a, err := os.ReadFile(path)
	check(t, err)
	b, err := os.ReadFile(other)
	check(t, err)
	la, err := LoadEmbedded("rt", a, Identity{ABIVersion: ABIVersion})
	check(t, err)
	// another embedded bpf.so is another library (glibc knows loaded
	// libraries by path: a reused /proc/self/fd/N would give the first)
	lb, err := LoadEmbedded("other", b, Identity{ABIVersion: ABIVersion})
	check(t, err)
	if la == lb || la.ObjectSHA256 == lb.ObjectSHA256 {
		t.Fatalf("the second embedded bpf.so is the first: %s, %s", la.ObjectSHA256, lb.ObjectSHA256)
	}
	again, err := LoadEmbedded("rt", a, Identity{SHA256: la.ObjectSHA256})
	check(t, err)
	if again != la {
		t.Errorf("the same bytes loaded twice")
	}
	fromFile, err := LoadLibrary(path, Identity{})
	check(t, err)
	if fromFile.ObjectSHA256 != la.ObjectSHA256 {
		t.Errorf("embedded and file differ")
	}
	_, err = LoadEmbedded("rt", a, Identity{SHA256: lb.ObjectSHA256})
	if e := wantCode(t, "embedded, another object", err, CodeMismatch); e != nil && !strings.Contains(e.Message, "rt (embedded bpf.so)") {
		t.Errorf("%q does not say which", e.Message)
	}
	// both work at once
	oa, err := la.Open(nil)
	check(t, err)
	defer oa.Close()
	ob, err := lb.Open(nil)
	check(t, err)
	defer ob.Close()
	check(t, oa.Load())
	check(t, ob.Load())
}

// ---- lifecycle ----

func TestLifecycle(t *testing.T) {
	o := open(t)
	if o.State() != StateOpened {
		t.Fatalf("state %s", o.State())
	}
	wantCode(t, "Attach before Load", o.Attach(), CodeState)
	_, err := o.Map("rt_kv")
	check(t, err)
	_, err = o.Map("no_such_map")
	wantCode(t, "a missing map", err, "ENOENT")
	wantCode(t, "autoload of a missing program", o.SetAutoload("no_such_prog", true), "ENOENT")
	_, err = o.Events("rt_events", nil)
	wantCode(t, "Events before Load", err, CodeState)
	var kv = NewMap(mustMap(t, o, "rt_kv"), u32Codec, kvCodec)
	_, _, err = kv.Get(1)
	if e := wantCode(t, "map before Load", err, CodeState); e != nil && !strings.Contains(e.Message, "Load()") {
		t.Errorf("%q does not say to load", e.Message)
	}
	check(t, o.Load())
	if o.State() != StateLoaded {
		t.Fatalf("state %s", o.State())
	}
	wantCode(t, "Load twice", o.Load(), CodeState)
	wantCode(t, "SetInitial after Load", o.SetInitial(".rodata", 0, u32b(1)), CodeState)
	wantCode(t, "SetAutoload after Load", o.SetAutoload("on_tp", false), CodeState)
	check(t, o.Attach())
	wantCode(t, "Attach twice", o.Attach(), CodeState)
	if o.State() != StateAttached {
		t.Fatalf("state %s", o.State())
	}
	check(t, o.Close())
	check(t, o.Close())
	if o.State() != StateDestroyed {
		t.Fatalf("state %s", o.State())
	}
	wantCode(t, "Attach after Close", o.Attach(), CodeDestroyed)
	_, _, err = kv.Get(1)
	wantCode(t, "map after Close", err, CodeDestroyed)
	_, err = o.Section(".bss")
	wantCode(t, "Section after Close", err, CodeDestroyed)
	_, err = o.AttachTracepoint("on_tp", "syscalls", "sys_enter_getppid")
	wantCode(t, "AttachTracepoint after Close", err, CodeDestroyed)

	// a failed Load cannot be retried
	p := open(t)
	check(t, p.SetAutoload("bad_prog", true))
	err = p.Load()
	if e := wantCode(t, "verifier", err, "EACCES"); e != nil {
		if !strings.Contains(e.Message, "bad_prog") || !strings.Contains(e.Detail, "invalid mem access") || !strings.Contains(err.Error(), e.Detail) {
			t.Errorf("the verifier's rejection: %q / %q", e.Message, e.Detail)
		}
	}
	if e := wantCode(t, "Load again", p.Load(), CodeState); e != nil && !strings.Contains(e.Message, "Close()") {
		t.Errorf("%q does not say to Close", e.Message)
	}
}

func mustMap(t *testing.T, o *Object, name string) *RawMap {
	t.Helper()
	m, err := o.Map(name)
	check(t, err)
	return m
}

func TestAttachErrors(t *testing.T) {
	o := open(t)
	check(t, o.SetAutoload("missing_tp", true))
	check(t, o.Load())
	err := o.Attach()
	if e := wantCode(t, "a missing tracepoint", err, "ENOENT"); e != nil && (!strings.Contains(e.Error(), "missing_tp") || !strings.Contains(e.Error(), "sys_enter_coolbpf_nope")) {
		t.Errorf("%q does not name the program and tracepoint", e)
	}
	if o.State() != StateLoaded {
		t.Errorf("a failed Attach left the object %s", o.State())
	}
	_, err = o.AttachTracepoint("on_tp", "syscalls", "sys_enter_coolbpf_nope")
	wantCode(t, "an explicit missing tracepoint", err, "ENOENT")
}

// ---- events, sections, attach ----

func TestEventsAndSections(t *testing.T) {
	o := loaded(t)
	// .rodata before load was set; after load it reads back and refuses writes
	ro, err := o.Section(".rodata")
	check(t, err)
	b := make([]byte, 8)
	check(t, ro.Read(0, b))
	if binary.LittleEndian.Uint32(b) != uint32(os.Getpid()) || binary.LittleEndian.Uint32(b[4:]) != testTag {
		t.Errorf(".rodata: %x", b)
	}
	if e := wantCode(t, ".rodata write after load", ro.Write(0, u32b(1)), CodeState); e != nil && !strings.Contains(e.Message, "read-only") {
		t.Errorf("%q", e.Message)
	}
	if ro.Writable() {
		t.Errorf(".rodata writable after load")
	}
	data, err := o.Section(".data")
	check(t, err)
	bss, err := o.Section(".bss")
	check(t, err)
	flag := NewVar(data, 0, u64Codec)
	hits := NewVar(bss, 0, u64Codec)
	v, err := flag.Get()
	check(t, err)
	if v != 0x100 {
		t.Errorf(".data flag: %#x", v)
	}
	check(t, flag.Set(0x5555))
	check(t, o.Attach())

	raw, err := o.Events("rt_events", &EventsOptions{BatchBytes: 64})
	check(t, err)
	ev := NewEvents(raw, rtEventCodec)
	getppid(3)
	n, err := hits.Get()
	check(t, err)
	if n != 3 {
		t.Errorf("hits_tp %d", n)
	}
	// records come whole, {u32 size, u32 cpu, data, pad to 8}, a batch of
	// 64 bytes holds one (40 bytes)
	buf := make([]byte, 64)
	got, err := raw.Read(buf)
	check(t, err)
	if got != 40 || binary.LittleEndian.Uint32(buf) != 32 {
		t.Fatalf("a raw read: %d bytes, header %x", got, buf[:8])
	}
	var first rtEvent
	rtEventCodec.Decode(buf[8:40], &first)
	if first.Kind != kindTP || first.Tag != testTag || first.Pid != uint32(os.Getpid()) || first.Flag != 0x5555 {
		t.Errorf("event %+v", first)
	}
	_, err = raw.Read(make([]byte, 16))
	wantCode(t, "a buffer smaller than a record", err, "ENOSPC")
	// the typed reader: the rest in order
	rs, err := ev.Drain(0)
	check(t, err)
	for len(rs) < 2 {
		more, err := ev.Drain(0)
		check(t, err)
		if len(more) == 0 {
			break
		}
		rs = append(rs, more...)
	}
	if len(rs) != 2 {
		t.Fatalf("%d more events", len(rs))
	}
	records, lost, err := ev.Stats()
	check(t, err)
	if records != 3 || lost != 0 {
		t.Errorf("stats %d %d", records, lost)
	}

	// tp_btf, raw_tp and a uprobe in this very binary
	exe, err := os.Executable()
	check(t, err)
	link, err := o.AttachUprobe("on_uprobe", UprobeTarget{Binary: exe, Symbol: rttarget.Symbol})
	check(t, err)
	getpgid()
	getsid()
	rttarget.Call(41)
	kinds := map[uint32]rtEvent{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	check(t, ev.Consume(ctx, func(e rtEvent, cpu int) error {
		if cpu != 0 {
			return fmt.Errorf("a ring buffer's cpu argument is %d", cpu)
		}
		kinds[e.Kind] = e
		if len(kinds) == 3 {
			cancel()
		}
		return nil
	}))
	if kinds[kindTPBTF].Value != 121 || kinds[kindRawTP].Value != 124 || kinds[kindUprobe].Value != 41 {
		t.Errorf("events %+v", kinds)
	}
	check(t, link.Detach())
	check(t, link.Detach())
	uprobeHits := NewVar(bss, 8, u64Codec)
	before, _ := uprobeHits.Get()
	rttarget.Call(1)
	after, _ := uprobeHits.Get()
	if before != after || before == 0 {
		t.Errorf("uprobe hits %d, then %d after Detach", before, after)
	}

	// the perf buffer: samples with the CPU they came from
	praw, err := o.Events("rt_pevents", nil)
	check(t, err)
	pev := NewEvents(praw, rtEventCodec)
	getppid(2)
	pctx, pcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer pcancel()
	seen := 0
	check(t, pev.Consume(pctx, func(e rtEvent, cpu int) error {
		if int(e.CPU) != cpu || e.Kind != kindTP {
			return fmt.Errorf("perf sample %+v from CPU %d", e, cpu)
		}
		if seen++; seen == 2 {
			pcancel()
		}
		return nil
	}))

	check(t, o.Close())
	_, err = flag.Get()
	wantCode(t, "a global after Close", err, CodeDestroyed)
	_, err = ev.Read(context.Background())
	wantCode(t, "Read after Close", err, CodeDestroyed)
	check(t, link.Detach())
}

func TestEventsStopPromptly(t *testing.T) {
	o := loaded(t)
	check(t, o.Attach())
	raw, err := o.Events("rt_events", nil)
	check(t, err)
	ev := NewEvents(raw, rtEventCodec)
	base := runtime.NumGoroutine()
	// a context ends a waiting read at once
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	t0 := time.Now()
	check(t, ev.Consume(ctx, func(rtEvent, int) error { return nil }))
	if d := time.Since(t0); d > 500*time.Millisecond {
		t.Errorf("Consume ended %v after its context", d)
	}
	_, err = ev.Read(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a done context: %v", err)
	}
	// a callback's error ends Consume with it; the record counts as read
	getppid(2)
	boom := errors.New("boom")
	err = ev.Consume(context.Background(), func(rtEvent, int) error { return boom })
	if err != boom {
		t.Errorf("Consume: %v, want the callback's error", err)
	}
	rs, err := ev.Drain(0)
	check(t, err)
	if len(rs) != 1 {
		t.Errorf("%d left after the failed callback, want 1", len(rs))
	}
	// a callback that cancels: no record is handed over after it, the rest stay
	getppid(5)
	ctx2, cancel2 := context.WithCancel(context.Background())
	got := 0
	check(t, ev.Consume(ctx2, func(rtEvent, int) error {
		got++
		if got == 2 {
			cancel2()
		}
		return nil
	}))
	rs, err = ev.Drain(0)
	check(t, err)
	if got != 2 || len(rs) != 3 {
		t.Errorf("cancel in the callback: %d delivered and %d left, want 2 and 3", got, len(rs))
	}
	// Subscribe: Stop ends it, and a record it could not hand over stays
	getppid(3)
	sub := ev.Subscribe(context.Background(), 0)
	r := <-sub.C
	if r.Value.Kind != kindTP {
		t.Errorf("%+v", r)
	}
	time.Sleep(20 * time.Millisecond) // the goroutine now waits to hand over the second
	sub.Stop()
	check(t, sub.Err())
	for range sub.C {
	}
	rs, err = ev.Drain(0)
	check(t, err)
	if len(rs) != 2 {
		t.Errorf("%d left after Stop, want 2", len(rs))
	}
	// closing the reader ends a waiting read; Close of the object too
	done := make(chan error)
	go func() { done <- ev.Consume(context.Background(), func(rtEvent, int) error { return nil }) }()
	time.Sleep(20 * time.Millisecond)
	check(t, ev.Close())
	select {
	case err := <-done:
		check(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("closing the reader did not end Consume")
	}
	_, err = ev.Read(context.Background())
	wantCode(t, "Read from a closed reader", err, CodeState)
	raw2, err := o.Events("rt_events", nil)
	check(t, err)
	ev2 := NewEvents(raw2, rtEventCodec)
	go func() { done <- ev2.Consume(context.Background(), func(rtEvent, int) error { return nil }) }()
	time.Sleep(20 * time.Millisecond)
	check(t, o.Close())
	select {
	case err := <-done:
		check(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not end Consume")
	}
	if o.State() != StateDestroyed {
		t.Errorf("Consume ended before Close did")
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines, %d before", n, base)
	}
}

// ---- maps ----

func TestMaps(t *testing.T) {
	o := loaded(t)
	raw := mustMap(t, o, "rt_kv")
	info, err := raw.Info()
	check(t, err)
	if info.KeySize != 4 || info.ValueSize != 24 || info.MaxEntries != 1024 || info.PerCPU || info.Fd < 0 {
		t.Fatalf("info %+v", info)
	}
	kv := NewMap(raw, u32Codec, kvCodec)
	name := [8]byte{'n', 'a', 'm', 'e'}
	check(t, kv.Update(1, kvValue{A: 1 << 60, B: 7, Name: name}, UpdateNoExist))
	wantCode(t, "NOEXIST", kv.Update(1, kvValue{}, UpdateNoExist), "EEXIST")
	wantCode(t, "EXIST", kv.Update(2, kvValue{}, UpdateExist), "ENOENT")
	v, ok, err := kv.Get(1)
	check(t, err)
	if !ok || v != (kvValue{A: 1 << 60, B: 7, Name: name}) {
		t.Errorf("%v %+v", ok, v)
	}
	_, ok, err = kv.Get(2)
	check(t, err)
	if ok {
		t.Errorf("a missing key found")
	}
	for _, mode := range []IterOptions{{BatchSize: 64}, {NoBatch: true}} {
		for i := uint32(10); i < 610; i++ {
			check(t, kv.Set(i, kvValue{A: uint64(i)}))
		}
		it := kv.IterateWith(mode)
		seen := map[uint32]bool{}
		for it.Next() {
			if seen[it.Key()] || (it.Key() >= 10 && it.Value().A != uint64(it.Key())) {
				t.Fatalf("%+v: key %d value %+v", mode, it.Key(), it.Value())
			}
			seen[it.Key()] = true
			if it.Key() >= 10 {
				ok, err := kv.Delete(it.Key()) // deleting the entry just yielded is safe
				check(t, err)
				if !ok {
					t.Fatalf("delete %d", it.Key())
				}
			}
		}
		check(t, it.Err())
		st := it.Stats()
		if len(seen) != 601 || st.Batch == mode.NoBatch || (!mode.NoBatch && st.BatchCalls < 2) {
			t.Errorf("%+v: %d keys, %+v", mode, len(seen), st)
		}
		keys, err := kv.Keys()
		check(t, err)
		if len(keys) != 1 || keys[0] != 1 {
			t.Errorf("%+v: left %v", mode, keys)
		}
	}
	// a ring buffer has no batch operations (nor keys): LookupBatch says so
	rb := mustMap(t, o, "rt_events")
	_, _, err = rb.LookupBatch(nil, make([]byte, 8), make([]byte, 8), make([]byte, 8), 1)
	if AsError(err) == nil {
		t.Errorf("batch lookup of a ring buffer: %v", err)
	}
	// per-CPU values, one 8-aligned slot per possible CPU
	pc := NewPerCPUMap(mustMap(t, o, "rt_pcpu"), u32Codec, u64Codec)
	cpus, err := o.Library().PossibleCPUs()
	check(t, err)
	if pc.CPUs() != cpus {
		t.Errorf("CPUs %d, possible %d", pc.CPUs(), cpus)
	}
	vals := make([]uint64, cpus)
	for i := range vals {
		vals[i] = uint64(i + 1)
	}
	check(t, pc.Set(0, vals))
	got, _, err := pc.Get(0)
	check(t, err)
	if fmt.Sprint(got) != fmt.Sprint(vals) {
		t.Errorf("per-CPU %v", got)
	}
	wantCode(t, "one value too few", pc.Set(0, vals[1:]), "EINVAL")
	// codecs that do not fit the map
	_, _, err = NewMap(raw, u64Codec, kvCodec).Get(1)
	wantCode(t, "a key codec of another size", err, CodeMismatch)
	_, _, err = NewMap(mustMap(t, o, "rt_pcpu"), u32Codec, u64Codec).Get(0)
	wantCode(t, "a per-CPU map as a Map", err, CodeMismatch)
	_, _, err = NewPerCPUMap(raw, u32Codec, kvCodec).Get(1)
	wantCode(t, "a map as a PerCPUMap", err, CodeMismatch)
}

// ---- concurrency and cleanup ----

func TestConcurrentUseAndClose(t *testing.T) {
	for round := 0; round < 5; round++ {
		o := loaded(t)
		check(t, o.Attach())
		kv := NewMap(mustMap(t, o, "rt_kv"), u32Codec, kvCodec)
		bss, err := o.Section(".bss")
		check(t, err)
		hits := NewVar(bss, 0, u64Codec)
		raw, err := o.Events("rt_events", nil)
		check(t, err)
		ev := NewEvents(raw, rtEventCodec)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if err := kv.Set(uint32(g*1000+i%100), kvValue{A: uint64(i)}); err != nil && !errors.Is(err, ErrDestroyed) {
						t.Errorf("Set: %v", err)
						return
					}
					if _, err := hits.Get(); err != nil && !errors.Is(err, ErrDestroyed) {
						t.Errorf("Get: %v", err)
						return
					}
					getppid(1)
				}
			}(g)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ev.Consume(context.Background(), func(rtEvent, int) error { return nil }); err != nil {
				t.Errorf("Consume: %v", err)
			}
		}()
		time.Sleep(30 * time.Millisecond)
		check(t, o.Close())
		time.Sleep(10 * time.Millisecond)
		close(stop)
		wg.Wait()
	}
}

func TestNothingLeft(t *testing.T) {
	l := lib(t)
	exe, err := os.Executable()
	check(t, err)
	fds := fdCount()
	base := runtime.NumGoroutine()
	for i := 0; i < 30; i++ {
		o, err := l.Open(nil)
		check(t, err)
		check(t, o.SetInitial(".rodata", 0, u32b(uint32(os.Getpid()))))
		check(t, o.Load())
		check(t, o.Attach())
		_, err = o.AttachUprobe("on_uprobe", UprobeTarget{Binary: exe, Symbol: rttarget.Symbol})
		check(t, err)
		raw, err := o.Events("rt_events", nil)
		check(t, err)
		_, err = o.Events("rt_pevents", nil)
		check(t, err)
		getppid(1)
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		_ = NewEvents(raw, rtEventCodec).Consume(ctx, func(rtEvent, int) error { return nil })
		cancel()
		check(t, o.Close())
	}
	if n := fdCount(); n != fds {
		t.Errorf("%d fds, %d before", n, fds)
	}
	time.Sleep(10 * time.Millisecond)
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines, %d before", n, base)
	}
}

// An object nobody closed is closed by the garbage collector.
func TestFinalizer(t *testing.T) {
	l := lib(t)
	fds := fdCount()
	func() {
		o, err := l.Open(nil)
		check(t, err)
		check(t, o.Load())
	}()
	deadline := time.Now().Add(5 * time.Second)
	for fdCount() > fds && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := fdCount(); n > fds {
		t.Errorf("%d fds, %d before: the unreachable object was not closed", n, fds)
	}
}

// The event path reads a whole batch per call into the bpf.so and decodes
// records into a reused value: no allocation per record, and none per read
// either (a batch of one record each: 1000 reads).
func TestConsumeAllocations(t *testing.T) {
	for _, batch := range []int{0, 64} {
		t.Run(fmt.Sprintf("batch %d bytes", batch), func(t *testing.T) {
			o := loaded(t)
			check(t, o.Attach())
			var opts *EventsOptions
			if batch > 0 {
				opts = &EventsOptions{BatchBytes: batch}
			}
			raw, err := o.Events("rt_events", opts)
			check(t, err)
			ev := NewEvents(raw, rtEventCodec)
			const n = 1000 // 40 bytes each: all in the 64 KiB ring
			getppid(n)
			var sum uint64
			count := 0
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			ctx, cancel := context.WithCancel(context.Background())
			check(t, ev.Consume(ctx, func(e rtEvent, cpu int) error {
				sum += uint64(e.Pid)
				if count++; count == n {
					cancel()
				}
				return nil
			}))
			runtime.ReadMemStats(&after)
			cancel()
			if count != n {
				t.Fatalf("%d events of %d", count, n)
			}
			if allocs := after.Mallocs - before.Mallocs; allocs > 20 {
				t.Errorf("%d allocations for %d events", allocs, n)
			}
		})
	}
}

func BenchmarkConsume(b *testing.B) {
	if os.Getuid() != 0 || os.Getenv("COOLBPF_RT_SO") == "" {
		b.Skip("needs root and COOLBPF_RT_SO")
	}
	l, err := LoadLibrary(os.Getenv("COOLBPF_RT_SO"), Identity{})
	if err != nil {
		b.Fatal(err)
	}
	o, err := l.Open(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	_ = o.SetInitial(".rodata", 0, u32b(uint32(os.Getpid())))
	if err := o.Load(); err != nil {
		b.Fatal(err)
	}
	if err := o.Attach(); err != nil {
		b.Fatal(err)
	}
	raw, _ := o.Events("rt_events", nil)
	ev := NewEvents(raw, rtEventCodec)
	// the events are made outside the timed part; only reading them is measured
	var spent time.Duration
	for done := 0; done < b.N; {
		batch := b.N - done
		if batch > 1000 {
			batch = 1000
		}
		getppid(batch)
		got := 0
		ctx, cancel := context.WithCancel(context.Background())
		t0 := time.Now()
		_ = ev.Consume(ctx, func(e rtEvent, cpu int) error {
			if got++; got == batch {
				cancel()
			}
			return nil
		})
		spent += time.Since(t0)
		cancel()
		done += batch
	}
	b.ReportMetric(float64(spent.Nanoseconds())/float64(b.N), "read-ns/event")
}
