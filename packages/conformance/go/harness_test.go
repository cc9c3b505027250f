// The Go column's harness: whether the kernel tests can run here, expect.json,
// the trigger (getppid(2) from the process's main thread), CPU pinning, what
// the kernel and this process hold (BPF ids behind our file descriptors, the
// kernel's lists), and the neutral form of values that expect.json uses.
package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// ---- the main thread -------------------------------------------------------

// The scenarios' programs act for this process's pid (tgid); the events they
// send carry the tid of the thread that made the system call, which
// expect.json says is the pid: the main thread. TestMain keeps the main
// goroutine on the main thread and runs tests on others; onMain hands work
// to it.
func init() { runtime.LockOSThread() }

var mainCalls = make(chan func())

func TestMain(m *testing.M) {
	if child := os.Getenv("COOLBPF_CONFORMANCE_CHILD"); child != "" {
		os.Exit(runChild(child))
	}
	done := make(chan int)
	go func() { done <- m.Run() }()
	for {
		select {
		case f := <-mainCalls:
			f()
		case code := <-done:
			os.Exit(code)
		}
	}
}

// onMain runs f on the process's main thread (tid == pid) and waits for it.
func onMain(f func()) {
	done := make(chan struct{})
	mainCalls <- func() {
		defer close(done)
		f()
	}
	<-done
}

// trigger makes n getppid(2) system calls from the main thread.
func trigger(n int) {
	onMain(func() { triggerHere(n) })
}

func triggerHere(n int) {
	for i := 0; i < n; i++ {
		syscall.Getppid()
	}
}

// ---- CPUs --------------------------------------------------------------------

type cpuSet [1024 / 64]uint64

func getAffinity() (cpuSet, error) {
	var s cpuSet
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(s), uintptr(unsafe.Pointer(&s)))
	if e != 0 {
		return s, e
	}
	return s, nil
}

func setAffinity(s cpuSet) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(s), uintptr(unsafe.Pointer(&s)))
	if e != 0 {
		return e
	}
	return nil
}

// allowedCPUs are the CPUs the main thread may run on.
func allowedCPUs() []int {
	var out []int
	onMain(func() {
		s, err := getAffinity()
		if err != nil {
			return
		}
		for i := 0; i < len(s)*64; i++ {
			if s[i/64]&(1<<(i%64)) != 0 {
				out = append(out, i)
			}
		}
	})
	return out
}

// onCPU runs f on the main thread pinned to cpu (the kernel moves the
// thread there before sched_setaffinity returns), then restores its
// affinity.
func onCPU(t *testing.T, cpu int, f func()) {
	t.Helper()
	var err error
	onMain(func() {
		before, e := getAffinity()
		if e != nil {
			err = e
			return
		}
		var one cpuSet
		one[cpu/64] |= 1 << (cpu % 64)
		if err = setAffinity(one); err != nil {
			return
		}
		defer func() { _ = setAffinity(before) }()
		f()
	})
	if err != nil {
		t.Fatalf("pinning the main thread to CPU %d: %v", cpu, err)
	}
}

// possibleCPUs counts /sys/devices/system/cpu/possible ("0-3,8").
func possibleCPUs(t *testing.T) int {
	b, err := os.ReadFile("/sys/devices/system/cpu/possible")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(string(b)), ",") {
		ab := strings.SplitN(part, "-", 2)
		a, _ := strconv.Atoi(ab[0])
		z := a
		if len(ab) == 2 {
			z, _ = strconv.Atoi(ab[1])
		}
		n += z - a + 1
	}
	return n
}

// ownComm is the main thread's comm: what bpf_get_current_comm() gives for its system calls.
func ownComm(t *testing.T) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", os.Getpid(), os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// ---- whether the kernel tests can run ---------------------------------------

// kernelSkipReason is why the scenarios cannot run here, or "".
func kernelSkipReason() string {
	if runtime.GOOS != "linux" {
		return "BPF needs Linux (this is " + runtime.GOOS + ")"
	}
	if os.Getuid() != 0 {
		return "loading BPF needs root (run the tests as root, as CI does)"
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	}
	if _, err := os.Stat("/sys/kernel/tracing/events/syscalls/sys_enter_getppid"); err != nil {
		return "no syscalls/sys_enter_getppid tracepoint (tracefs not mounted at /sys/kernel/tracing, or no syscall tracepoints)"
	}
	return ""
}

func skipWithoutKernel(t *testing.T) {
	t.Helper()
	if why := kernelSkipReason(); why != "" {
		t.Skip(why)
	}
}

// ---- scenarios ------------------------------------------------------------------

// Spec is a scenario's expect.json (numbers as json.Number, so 64-bit values stay exact).
type Spec map[string]any

func expected(t *testing.T, scenario string) Spec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "scenarios", scenario, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var s Spec
	if err := d.Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// Case is one case of expect.json.
type Case = map[string]any

func (s Spec) Case(t *testing.T, id string) Case {
	t.Helper()
	for _, c := range s["cases"].([]any) {
		if c := c.(map[string]any); c["id"] == id {
			return c
		}
	}
	t.Fatalf("expect.json has no case %q", id)
	return nil
}

// get walks a path of object keys.
func get(v any, path ...string) any {
	if s, ok := v.(Spec); ok {
		v = map[string]any(s)
	}
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// jint is an integer of expect.json (a number or a decimal string).
func jint(t *testing.T, v any) int64 {
	t.Helper()
	b := jbig(t, v)
	if !b.IsInt64() {
		t.Fatalf("%v is not an int64", v)
	}
	return b.Int64()
}

func juint(t *testing.T, v any) uint64 {
	t.Helper()
	b := jbig(t, v)
	if !b.IsUint64() {
		t.Fatalf("%v is not a uint64", v)
	}
	return b.Uint64()
}

func jbig(t *testing.T, v any) *big.Int {
	t.Helper()
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = x
	default:
		t.Fatalf("%#v is not an integer", v)
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("%q is not an integer", s)
	}
	return b
}

func jstr(t *testing.T, v any) string {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%#v is not a string", v)
	}
	return s
}

func jlist(t *testing.T, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%#v is not a list", v)
	}
	return l
}

// buildDir is where build-scenarios.mjs put a scenario's bpf.o, bpf.so and packages.
func buildDir(scenario string) string {
	d, _ := filepath.Abs(filepath.Join("..", "build", scenario))
	return d
}

// ---- checks ----------------------------------------------------------------------

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// codeOf is the Code of the *Error in err's chain ("" if none). The
// generated packages' Error is coolbpf.Error of their own copy of the
// runtime, so it is found by its fields, not its type.
func codeOf(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
			if c := v.Elem().FieldByName("Code"); c.IsValid() && c.Kind() == reflect.String {
				return c.String()
			}
		}
	}
	return ""
}

// detailOf is the Detail of the *Error in err's chain.
func detailOf(err error) string {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Struct {
		if d := v.Elem().FieldByName("Detail"); d.IsValid() {
			return d.String()
		}
	}
	return ""
}

// wantCode fails unless err is an *Error with code.
func wantCode(t *testing.T, what string, err error, code string) error {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %s", what, code)
		return nil
	}
	if got := codeOf(err); got != code {
		t.Errorf("%s: error %s (%v), want %s", what, got, err, code)
	}
	return err
}

// until waits for pred, or fails after timeout.
func until(t *testing.T, what string, timeout time.Duration, pred func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !pred() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ---- what this process holds, what the kernel has ---------------------------------

// Held are the BPF objects behind this process's file descriptors, by kernel id, and the fds by kind.
type Held struct {
	Programs, Maps, Links []int
	Kinds                 map[string]int
}

func held() Held {
	h := Held{Kinds: map[string]int{}}
	ents, _ := os.ReadDir("/proc/self/fd")
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || !strings.HasPrefix(target, "anon_inode:") {
			continue
		}
		h.Kinds[target]++
		id := func(key string) int {
			b, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
			if err != nil {
				return -1
			}
			m := regexp.MustCompile(`(?m)^` + key + `:\s*(\d+)`).FindSubmatch(b)
			if m == nil {
				return -1
			}
			n, _ := strconv.Atoi(string(m[1]))
			return n
		}
		add := func(l *[]int, v int) {
			if v < 0 {
				return
			}
			for _, x := range *l {
				if x == v {
					return
				}
			}
			*l = append(*l, v)
		}
		switch target {
		case "anon_inode:bpf-prog":
			add(&h.Programs, id("prog_id"))
		case "anon_inode:bpf-map":
			add(&h.Maps, id("map_id"))
		case "anon_inode:bpf_link":
			add(&h.Links, id("link_id"))
		}
	}
	sort.Ints(h.Programs)
	sort.Ints(h.Maps)
	sort.Ints(h.Links)
	return h
}

// bpfFdCounts are the BPF fds this process holds, by kind.
func bpfFdCounts() map[string]int {
	k := held().Kinds
	return map[string]int{
		"programs": k["anon_inode:bpf-prog"], "maps": k["anon_inode:bpf-map"], "links": k["anon_inode:bpf_link"],
		"perfEvents": k["anon_inode:[perf_event]"], "epoll": k["anon_inode:[eventpoll]"],
	}
}

func newIDs(now, before []int) []int {
	var out []int
	for _, id := range now {
		found := false
		for _, b := range before {
			found = found || b == id
		}
		if !found {
			out = append(out, id)
		}
	}
	return out
}

// KernelEntry is one entry of bpftool's lists.
type KernelEntry struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func bpftool(t *testing.T, what string) []KernelEntry {
	t.Helper()
	out, err := exec.Command("bpftool", "-j", what, "show").Output()
	if err != nil {
		t.Fatalf("bpftool %s show: %v", what, err)
	}
	var l []KernelEntry
	if len(bytes.TrimSpace(out)) > 0 {
		if err := json.Unmarshal(out, &l); err != nil {
			t.Fatalf("bpftool %s show: %v", what, err)
		}
	}
	return l
}

func contains(l []KernelEntry, id int) bool {
	for _, e := range l {
		if e.ID == id {
			return true
		}
	}
	return false
}

// stillInKernel are the ids still in the kernel's lists once none is or after timeout
// (the kernel frees programs, maps and links after an RCU grace period).
func stillInKernel(t *testing.T, h Held, timeout time.Duration) Held {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		progs, maps, links := bpftool(t, "prog"), bpftool(t, "map"), bpftool(t, "link")
		var left Held
		for _, id := range h.Programs {
			if contains(progs, id) {
				left.Programs = append(left.Programs, id)
			}
		}
		for _, id := range h.Maps {
			if contains(maps, id) {
				left.Maps = append(left.Maps, id)
			}
		}
		for _, id := range h.Links {
			if contains(links, id) {
				left.Links = append(left.Links, id)
			}
		}
		if len(left.Programs)+len(left.Maps)+len(left.Links) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// programsNamed are the kernel's programs whose names start with prefix,
// once there are none or after timeout.
func programsNamed(t *testing.T, prefix string, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var left []string
		for _, p := range bpftool(t, "prog") {
			if strings.HasPrefix(p.Name, prefix) {
				left = append(left, p.Name)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---- values in expect.json's neutral form -------------------------------------------

// The neutral form: JSON as expect.json writes it. Integers whose C type is
// 64 bits (and 8-byte enums, and 64-bit bitfields) are decimal strings,
// other integers numbers; char[n] strings; __u8 arrays lists of numbers;
// structs and unions objects by C field name (anonymous members flattened;
// every union member as decoding gives it). Generated types say what they
// are through their <Type>Layout (Layouts()); section value structs have
// Go names made from the C names the way the generator makes them.

// Layouts maps Go type names to their layouts, from a generated package's Layouts().
type Layouts map[string]Layout

// Layout is what the harness needs of a coolbpf.TypeLayout (of any copy of the runtime).
type Layout struct {
	Fields []FieldInfo
}

// FieldInfo is what the harness needs of a coolbpf.FieldLayout.
type FieldInfo struct {
	Name, Go string
	Method   bool
}

// layoutsOf reads a generated package's Layouts() result (a slice of coolbpf.TypeLayout).
func layoutsOf(list any) Layouts {
	out := Layouts{}
	v := reflect.ValueOf(list)
	for i := 0; i < v.Len(); i++ {
		l := v.Index(i)
		var fields []FieldInfo
		fs := l.FieldByName("Fields")
		for j := 0; j < fs.Len(); j++ {
			f := fs.Index(j)
			fields = append(fields, FieldInfo{Name: f.FieldByName("Name").String(), Go: f.FieldByName("Go").String(), Method: f.FieldByName("Method").Bool()})
		}
		out[l.FieldByName("Name").String()] = Layout{Fields: fields}
	}
	return out
}

// goName is the generator's exported name for a C name (names.ts goExported).
func goName(c string) string {
	words := regexp.MustCompile(`[^A-Za-z0-9]+`).Split(c, -1)
	var b strings.Builder
	for _, w := range words {
		if w == "" {
			continue
		}
		if len(w) > 1 && strings.ToUpper(w) == w && strings.ToLower(w) != w {
			b.WriteString(w[:1] + strings.ToLower(w[1:]))
		} else {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	s := b.String()
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "X" + s
	}
	return s
}

var stringer = reflect.TypeOf((*fmt.Stringer)(nil)).Elem()

// neutral is a Go value in the neutral form.
func neutral(ls Layouts, v reflect.Value) any {
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return json.Number(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return json.Number(strconv.FormatUint(v.Uint(), 10))
	case reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Float32:
		return json.Number(strconv.FormatFloat(v.Float(), 'g', -1, 32))
	case reflect.Float64:
		return json.Number(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Type().Implements(stringer) {
			return v.Interface().(fmt.Stringer).String()
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = neutral(ls, v.Index(i))
		}
		return out
	case reflect.Struct:
		if l, ok := ls[v.Type().Name()]; ok {
			out := map[string]any{}
			for _, f := range l.Fields {
				if f.Method {
					out[f.Name] = neutral(ls, v.MethodByName(f.Go).Call(nil)[0])
				} else {
					out[f.Name] = neutral(ls, v.FieldByName(f.Go))
				}
			}
			return out
		}
		if v.Type().Implements(stringer) { // coolbpf.Int128, Uint128
			return v.Interface().(fmt.Stringer).String()
		}
	}
	panic(fmt.Sprintf("no neutral form for %s", v.Type()))
}

// canonical makes expect.json's values comparable with neutral's: numbers
// in one spelling (1.50 → 1.5, 1e2 → 100).
func canonical(v any) any {
	switch x := v.(type) {
	case json.Number:
		if b, ok := new(big.Int).SetString(string(x), 10); ok {
			return json.Number(b.String())
		}
		f, err := x.Float64()
		if err != nil {
			return x
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = canonical(x[i])
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = canonical(e)
		}
		return out
	}
	return v
}

// sameNeutral says where got and want (neutral forms) differ first, or "".
func sameNeutral(path string, got, want any) string {
	got, want = canonical(got), canonical(want)
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %#v, want an object", path, got)
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if d := sameNeutral(path+"."+k, g[k], w[k]); d != "" {
				return d
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s.%s: got %#v, want nothing", path, k, g[k])
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %#v, want %#v", path, got, want)
		}
		for i := range w {
			if d := sameNeutral(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%s: got %#v, want %#v", path, got, want)
	}
	return ""
}

// sameValue fails when the Go value v differs from want (neutral form).
func sameValue(t *testing.T, what string, ls Layouts, v any, want any) {
	t.Helper()
	if d := sameNeutral(what, neutral(ls, reflect.ValueOf(v)), want); d != "" {
		t.Error(d)
	}
}

// setNeutral sets dst (addressable) from the neutral form.
func setNeutral(t *testing.T, ls Layouts, dst reflect.Value, v any) {
	t.Helper()
	switch dst.Kind() {
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok { // a plain integer holding a flag
			b = jint(t, v) != 0
		}
		dst.SetBool(b)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		dst.SetInt(jint(t, v))
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if b, ok := v.(bool); ok {
			if b {
				dst.SetUint(1)
			} else {
				dst.SetUint(0)
			}
			return
		}
		dst.SetUint(juint(t, v))
	case reflect.Float32, reflect.Float64:
		f, err := v.(json.Number).Float64()
		if err != nil {
			t.Fatal(err)
		}
		dst.SetFloat(f)
	case reflect.Array:
		if dst.Type().Elem().Kind() == reflect.Uint8 && dst.Type().Implements(stringer) {
			r := dst.Addr().MethodByName("Set").Call([]reflect.Value{reflect.ValueOf(jstr(t, v))})
			if err, _ := r[0].Interface().(error); err != nil {
				t.Fatal(err)
			}
			return
		}
		l := jlist(t, v)
		if len(l) != dst.Len() {
			t.Fatalf("%d elements for a %s", len(l), dst.Type())
		}
		for i := range l {
			setNeutral(t, ls, dst.Index(i), l[i])
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%#v for a %s", v, dst.Type())
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if l, ok := ls[dst.Type().Name()]; ok {
			for _, k := range keys {
				var f *FieldInfo
				for i := range l.Fields {
					if l.Fields[i].Name == k {
						f = &l.Fields[i]
					}
				}
				if f == nil {
					t.Fatalf("%s has no field %s", dst.Type(), k)
				}
				if f.Method {
					setter := dst.Addr().MethodByName("Set" + f.Go)
					x := reflect.New(setter.Type().In(0)).Elem()
					setNeutral(t, ls, x, m[k])
					setter.Call([]reflect.Value{x})
				} else {
					setNeutral(t, ls, dst.FieldByName(f.Go), m[k])
				}
			}
			return
		}
		for _, k := range keys {
			f := dst.FieldByName(goName(k))
			if !f.IsValid() {
				t.Fatalf("%s has no field %s (%s)", dst.Type(), goName(k), k)
			}
			setNeutral(t, ls, f, m[k])
		}
	default:
		t.Fatalf("cannot set a %s", dst.Type())
	}
}

// sectionNeutral is the neutral form of a section value struct (fields by C name, for the names of want).
func sectionNeutral(ls Layouts, v any, names []string, rename func(string) string) map[string]any {
	out := map[string]any{}
	rv := reflect.ValueOf(v)
	for _, n := range names {
		out[n] = neutral(ls, rv.FieldByName(goName(rename(n))))
	}
	return out
}

// fill replaces $pid, $comm and $cpu in an event of expect.json.
func fill(t *testing.T, e map[string]any, cpu int) map[string]any {
	out := map[string]any{}
	for k, v := range e {
		switch v {
		case "$pid":
			v = json.Number(strconv.Itoa(os.Getpid()))
		case "$comm":
			v = ownComm(t)
		case "$cpu":
			v = json.Number(strconv.Itoa(cpu))
		}
		out[k] = v
	}
	return out
}

// keysOf are the keys of a JSON object, sorted.
func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// valueOf is the addressable value p points to.
func valueOf(p any) reflect.Value { return reflect.ValueOf(p).Elem() }
