// lifecycle: open → set .rodata → load → attach, autoload, explicit attach
// and detach, Close, the errors of calls out of order and after Close, and
// nothing left in the kernel or in this process afterwards.
package conformance

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"coolbpf.local/lifecycle"
)

func lcOptions() *lifecycle.Options {
	pid := uint32(os.Getpid())
	return &lifecycle.Options{Rodata: func(r *lifecycle.Rodata) error { r.TargetTgid = pid; return nil }}
}

func lcGet[T any](t *testing.T, what string, get func() (T, error)) T {
	t.Helper()
	v, err := get()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func TestLifecycle(t *testing.T) {
	skipWithoutKernel(t)
	E := expected(t, "lifecycle")
	pid := uint32(os.Getpid())
	t.Cleanup(func() {
		// whatever a test left loaded would show here
		if left := programsNamed(t, "lc_", 10*time.Second); len(left) > 0 {
			t.Errorf("programs left in the kernel: %v", left)
		}
	})

	t.Run("init", func(t *testing.T) {
		c := E.Case(t, "init")
		x, err := lifecycle.Init(lcOptions())
		must(t, err)
		defer x.Close()
		eq(t, "state", x.Object().State().String(), jstr(t, get(c, "expect", "state")))
		eq(t, "rodata.target_tgid", lcGet(t, "target_tgid", x.Rodata.TargetTgid.Get), pid)
		trigger(int(jint(t, c["triggers"])))
		eq(t, "bss.count", lcGet(t, "count", x.Bss.Count.Get), juint(t, get(c, "expect", "bss.count")))
		hits, ok, err := x.Maps.LcHits.Get(0)
		must(t, err)
		eq(t, "lc_hits[0] present", ok, true)
		eq(t, "lc_hits[0]", hits, juint(t, get(c, "expect", "lc_hits[0]")))
		eq(t, "bss.manual_count", lcGet(t, "manual_count", x.Bss.ManualCount.Get), juint(t, get(c, "expect", "bss.manual_count")))
		eq(t, "bss.optional_count", lcGet(t, "optional_count", x.Bss.OptionalCount.Get), juint(t, get(c, "expect", "bss.optional_count")))
	})

	t.Run("step-by-step", func(t *testing.T) {
		c := E.Case(t, "step-by-step")
		n := func(k string) int { return int(jint(t, get(c, "triggers", k))) }
		opened, err := lifecycle.Open(nil)
		must(t, err)
		defer opened.Close()
		eq(t, "opened state", opened.Object().State().String(), jstr(t, get(c, "expect", "opened", "state")))
		must(t, opened.Rodata.TargetTgid.Set(pid))
		eq(t, "rodata before load", lcGet(t, "target_tgid", opened.Rodata.TargetTgid.Get), pid)
		trigger(n("opened"))
		x, err := opened.Load()
		must(t, err)
		eq(t, "loaded state", x.Object().State().String(), jstr(t, get(c, "expect", "loaded", "state")))
		eq(t, "rodata after load", lcGet(t, "target_tgid", x.Rodata.TargetTgid.Get), pid)
		trigger(n("loaded"))
		eq(t, "bss.count loaded", lcGet(t, "count", x.Bss.Count.Get), juint(t, get(c, "expect", "loaded", "bss.count")))
		must(t, x.Attach())
		eq(t, "attached state", x.Object().State().String(), jstr(t, get(c, "expect", "attached", "state")))
		trigger(n("attached"))
		eq(t, "bss.count attached", lcGet(t, "count", x.Bss.Count.Get), juint(t, get(c, "expect", "attached", "bss.count")))
	})

	t.Run("autoload", func(t *testing.T) {
		c := E.Case(t, "autoload")
		before := held().Programs
		var want []string
		for _, n := range jlist(t, get(c, "expect", "loadedPrograms")) {
			want = append(want, jstr(t, n))
		}
		check := func(x *lifecycle.Lifecycle) {
			t.Helper()
			ours := newIDs(held().Programs, before)
			eq(t, "programs loaded", len(ours), len(want))
			trigger(int(jint(t, c["triggers"])))
			eq(t, "bss.count", lcGet(t, "count", x.Bss.Count.Get), juint(t, get(c, "expect", "bss.count")))
			eq(t, "bss.optional_count", lcGet(t, "optional_count", x.Bss.OptionalCount.Get), juint(t, get(c, "expect", "bss.optional_count")))
			var names []string
			for _, p := range bpftool(t, "prog") {
				for _, id := range ours {
					if p.ID == id {
						names = append(names, p.Name)
					}
				}
			}
			sortStrings(names)
			eq(t, "loaded programs", strings.Join(names, ","), strings.Join(want, ","))
		}
		func() {
			opened, err := lifecycle.Open(lcOptions())
			must(t, err)
			defer opened.Close()
			eq(t, "lc_count autoload", opened.Programs.LcCount.Autoload(), true)
			eq(t, "lc_optional autoload", opened.Programs.LcOptional.Autoload(), false)
			must(t, opened.Programs.LcCount.SetAutoload(false))
			must(t, opened.Programs.LcOptional.SetAutoload(true))
			eq(t, "lc_count autoload", opened.Programs.LcCount.Autoload(), false)
			eq(t, "lc_optional autoload", opened.Programs.LcOptional.Autoload(), true)
			x, err := opened.Load()
			must(t, err)
			must(t, x.Attach())
			check(x)
		}()
		func() {
			o := lcOptions()
			o.Autoload = map[string]bool{"lc_count": false, "lc_optional": true}
			x, err := lifecycle.Init(o)
			must(t, err)
			defer x.Close()
			check(x)
		}()
	})

	t.Run("explicit-attach", func(t *testing.T) {
		c := E.Case(t, "explicit-attach")
		n := func(k string) int { return int(jint(t, get(c, "triggers", k))) }
		target := jlist(t, c["manualTarget"])
		category, name := jstr(t, target[0]), jstr(t, target[1])
		func() {
			x, err := lifecycle.Init(lcOptions())
			must(t, err)
			defer x.Close()
			trigger(n("a"))
			eq(t, "manual_count before attach", lcGet(t, "manual_count", x.Bss.ManualCount.Get), 0)
			link, err := x.Programs.LcManual.AttachTracepoint(category, name)
			must(t, err)
			trigger(n("b"))
			eq(t, "manual_count attached", lcGet(t, "manual_count", x.Bss.ManualCount.Get), uint64(n("b")))
			must(t, link.Detach())
			trigger(n("c"))
			eq(t, "manual_count detached", lcGet(t, "manual_count", x.Bss.ManualCount.Get), uint64(n("b")))
			must(t, link.Detach()) // idempotent
			func() {
				l2, err := x.Programs.LcManual.AttachTracepoint(category, name)
				must(t, err)
				defer l2.Close() // the scope's end disposes of it
				trigger(n("d"))
			}()
			trigger(n("e"))
			eq(t, "bss.manual_count", lcGet(t, "manual_count", x.Bss.ManualCount.Get), juint(t, get(c, "expect", "bss.manual_count")))
			eq(t, "bss.count", lcGet(t, "count", x.Bss.Count.Get), juint(t, get(c, "expect", "bss.count")))
			// SEC("tracepoint") names no target: Attach says so, and what to use
			_, err = x.Programs.LcManual.Attach()
			if err == nil || !strings.Contains(err.Error(), "lc_manual") || !strings.Contains(err.Error(), "names no target") || !strings.Contains(err.Error(), "AttachTracepoint") {
				t.Errorf("lc_manual.Attach(): %v, want an error saying it names no target (use AttachTracepoint)", err)
			}
		}()
		func() {
			// loaded, not attached: only the program attached explicitly runs
			opened, err := lifecycle.Open(lcOptions())
			must(t, err)
			defer opened.Close()
			x, err := opened.Load()
			must(t, err)
			link, err := x.Programs.LcCount.Attach()
			must(t, err)
			trigger(n("f"))
			must(t, link.Close())
			trigger(n("g"))
			eq(t, "explicitOnly.bss.count", lcGet(t, "count", x.Bss.Count.Get), juint(t, get(c, "expect", "explicitOnly.bss.count")))
			eq(t, "manual_count", lcGet(t, "manual_count", x.Bss.ManualCount.Get), 0)
		}()
	})

	t.Run("destroy-idempotent", func(t *testing.T) {
		c := E.Case(t, "destroy-idempotent")
		x, err := lifecycle.Init(lcOptions())
		must(t, err)
		must(t, x.Close())
		eq(t, "state", x.Object().State().String(), jstr(t, get(c, "expect", "state")))
		must(t, x.Close())
	})

	t.Run("use-after-destroy", func(t *testing.T) {
		code := jstr(t, get(E.Case(t, "use-after-destroy"), "expect", "error"))
		x, err := lifecycle.Init(lcOptions())
		must(t, err)
		hits := x.Maps.LcHits // made before Close
		_, err = x.Bss.Count.Get()
		must(t, err) // the section was in use before Close
		must(t, x.Close())
		wantCode(t, "Attach", x.Attach(), code)
		_, err = x.Programs.LcManual.AttachTracepoint("syscalls", "sys_enter_getppid")
		wantCode(t, "AttachTracepoint", err, code)
		_, err = x.Programs.LcCount.Attach()
		wantCode(t, "lc_count.Attach", err, code)
		_, _, err = hits.Get(0)
		wantCode(t, "map Get", err, code)
		wantCode(t, "map Set", hits.Set(0, 1), code)
		_, err = hits.Keys()
		wantCode(t, "map Keys", err, code)
		_, err = x.Bss.Count.Get()
		wantCode(t, "bss.count Get", err, code)
		wantCode(t, "bss.count Set", x.Bss.Count.Set(1), code)
		_, err = x.Rodata.TargetTgid.Get()
		wantCode(t, "rodata Get", err, code)
		_, err = x.Bss.Read()
		wantCode(t, "bss Read", err, code)
		opened, err := lifecycle.Open(nil)
		must(t, err)
		must(t, opened.Close())
		_, err = opened.Load()
		wantCode(t, "Load after Close", err, code)
		wantCode(t, "rodata Set after Close", opened.Rodata.TargetTgid.Set(1), code)
	})

	t.Run("out-of-order", func(t *testing.T) {
		code := jstr(t, get(E.Case(t, "out-of-order"), "expect", "error"))
		opened, err := lifecycle.Open(lcOptions())
		must(t, err)
		defer opened.Close()
		wantCode(t, "Attach before Load", opened.Object().Attach(), code)
		x, err := opened.Load()
		must(t, err)
		_, err = opened.Load()
		if wantCode(t, "Load twice", err, code) != nil && !strings.Contains(err.Error(), "Load") {
			t.Errorf("Load twice: %v", err)
		}
		wantCode(t, "rodata Set after Load", opened.Rodata.TargetTgid.Set(1), code)
		wantCode(t, "SetAutoload after Load", opened.Programs.LcOptional.SetAutoload(true), code)
		must(t, x.Attach())
		wantCode(t, "Attach twice", x.Attach(), code)
		// the failed calls changed nothing
		trigger(3)
		eq(t, "bss.count", lcGet(t, "count", x.Bss.Count.Get), 3)
		eq(t, "rodata.target_tgid", lcGet(t, "target_tgid", x.Rodata.TargetTgid.Get), pid)
		// the loaded object's .rodata has no setter at all (a compile error)
		if reflect.ValueOf(x.Rodata.TargetTgid).MethodByName("Set").IsValid() {
			t.Errorf("the loaded object's rodata.TargetTgid has a Set method")
		}
	})

	t.Run("nothing-left", func(t *testing.T) {
		c := E.Case(t, "nothing-left")
		fdsBefore := bpfFdCounts()
		before := held()
		x, err := lifecycle.Init(lcOptions())
		must(t, err)
		link, err := x.Programs.LcManual.AttachTracepoint("syscalls", "sys_enter_getppid")
		must(t, err)
		trigger(2)
		eq(t, "manual_count", lcGet(t, "manual_count", x.Bss.ManualCount.Get), 2)
		now := held()
		ours := Held{Programs: newIDs(now.Programs, before.Programs), Maps: newIDs(now.Maps, before.Maps), Links: newIDs(now.Links, before.Links)}
		eq(t, "programs held", len(ours.Programs), int(jint(t, get(c, "expect", "heldWhileLoaded", "programs"))))
		maps := bpftool(t, "map")
		var names []string
		for _, id := range ours.Maps {
			for _, m := range maps {
				if m.ID == id {
					names = append(names, m.Name)
				}
			}
		}
		for _, w := range jlist(t, get(c, "expect", "heldWhileLoaded", "maps")) {
			want := jstr(t, w)
			found := 0
			for _, n := range names {
				// libbpf names data-section maps "<object name, 8 characters><section>"
				if n == want || (strings.HasPrefix(want, ".") && strings.HasSuffix(n, want)) {
					found++
				}
			}
			eq(t, "maps named "+want, found, 1)
		}
		eq(t, "link attached", link.Attached(), true)
		must(t, x.Close())
		eq(t, "link attached after Close", link.Attached(), false)
		for i := 0; i < int(jint(t, c["cycles"])); i++ {
			y, err := lifecycle.Init(lcOptions())
			must(t, err)
			trigger(1)
			eq(t, "cycle bss.count", lcGet(t, "count", y.Bss.Count.Get), 1)
			must(t, y.Close())
		}
		left := stillInKernel(t, ours, 10*time.Second)
		if len(left.Programs)+len(left.Maps)+len(left.Links) > 0 {
			t.Errorf("still in the kernel: %+v", left)
		}
		after := bpfFdCounts()
		if !reflect.DeepEqual(after, fdsBefore) {
			t.Errorf("BPF fds: %v, before %v", after, fdsBefore)
		}
	})
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
