// errors: what fails, with which code, naming what; a failed init leaves
// nothing loaded.
package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	gerrors "coolbpf.local/errors"
)

func TestErrors(t *testing.T) {
	skipWithoutKernel(t)
	E := expected(t, "errors")
	pid := uint32(os.Getpid())
	options := func(autoload map[string]bool) *gerrors.Options {
		return &gerrors.Options{Autoload: autoload, Rodata: func(r *gerrors.Rodata) error { r.TargetTgid = pid; return nil }}
	}
	strs := func(v any) []string {
		var out []string
		for _, s := range jlist(t, v) {
			out = append(out, jstr(t, s))
		}
		return out
	}
	// a failing Init leaves nothing: no new BPF fds here, none of our programs in the kernel
	failsCleanly := func(t *testing.T, code string, f func() error) error {
		t.Helper()
		fds := bpfFdCounts()
		before := held()
		err := wantCode(t, "Init", f(), code)
		if after := bpfFdCounts(); !reflect.DeepEqual(after, fds) {
			t.Errorf("BPF fds after the failed Init: %v, before %v", after, fds)
		}
		if after := held(); !reflect.DeepEqual(after, before) {
			t.Errorf("held after the failed Init: %+v, before %+v", after, before)
		}
		// what a failed Init loaded before failing is freed (after an RCU grace period)
		if left := programsNamed(t, "er_", 10*time.Second); len(left) > 0 {
			t.Errorf("programs left in the kernel: %v", left)
		}
		return err
	}

	t.Run("verifier", func(t *testing.T) {
		c := E.Case(t, "verifier")
		code := jstr(t, get(c, "expect", "code"))
		err := failsCleanly(t, code, func() error {
			x, err := gerrors.Init(options(map[string]bool{"er_bad": true}))
			if err == nil {
				x.Close()
			}
			return err
		})
		if err == nil {
			return
		}
		var ge *gerrors.Error
		if !errors.As(err, &ge) {
			t.Fatalf("%T is not the package's Error", err)
		}
		eq(t, "errno", ge.Errno, syscall.EACCES)
		if !errors.Is(err, syscall.EACCES) || !errors.Is(err, os.ErrPermission) {
			t.Errorf("errors.Is(err, EACCES / os.ErrPermission) is false")
		}
		first := strings.SplitN(err.Error(), "\n", 2)[0]
		for _, n := range strs(get(c, "expect", "messageNames")) {
			if !strings.Contains(first, n) {
				t.Errorf("the message %q does not name %s", first, n)
			}
		}
		for _, l := range strs(get(c, "expect", "verifierLog")) {
			if !strings.Contains(ge.Detail, l) {
				t.Errorf("the detail does not have %q:\n%s", l, ge.Detail)
			}
		}
		if !strings.Contains(err.Error(), ge.Detail) {
			t.Errorf("Error() lacks the detail")
		}

		// step by step: the same from Load, which cannot be retried
		opened, err := gerrors.Open(options(nil))
		must(t, err)
		defer opened.Close()
		must(t, opened.Programs.ErBad.SetAutoload(true))
		_, err = opened.Load()
		wantCode(t, "Load", err, code)
		_, err = opened.Load()
		if wantCode(t, "Load again", err, "ESTATE") != nil && !strings.Contains(err.Error(), "Close()") {
			t.Errorf("Load again: %q does not say to Close", err)
		}
		if !errors.Is(err, gerrors.ErrState) {
			t.Errorf("errors.Is(err, ErrState) is false")
		}
	})

	t.Run("missing-tracepoint-auto", func(t *testing.T) {
		c := E.Case(t, "missing-tracepoint-auto")
		err := failsCleanly(t, jstr(t, get(c, "expect", "code")), func() error {
			x, err := gerrors.Init(options(map[string]bool{"er_no_tp": true}))
			if err == nil {
				x.Close()
			}
			return err
		})
		for _, n := range strs(get(c, "expect", "messageNames")) {
			if err != nil && !strings.Contains(err.Error(), n) {
				t.Errorf("the message %q does not name %s", err, n)
			}
		}
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("errors.Is(err, os.ErrNotExist) is false")
		}
	})

	t.Run("missing-tracepoint-explicit", func(t *testing.T) {
		c := E.Case(t, "missing-tracepoint-explicit")
		target := jlist(t, c["target"])
		x, err := gerrors.Init(options(nil))
		must(t, err)
		defer x.Close()
		_, err = x.Programs.ErManual.AttachTracepoint(jstr(t, target[0]), jstr(t, target[1]))
		wantCode(t, "AttachTracepoint", err, jstr(t, get(c, "expect", "code")))
		for _, n := range strs(get(c, "expect", "messageNames")) {
			if err != nil && !strings.Contains(err.Error(), n) {
				t.Errorf("the message %q does not name %s", err, n)
			}
		}
		eq(t, "state", x.Object().State().String(), "attached")
		trigger(int(jint(t, c["triggers"])))
		eq(t, "bss.ok_hits", lcGet(t, "ok_hits", x.Bss.OkHits.Get), juint(t, get(c, "expect", "bss.ok_hits")))
	})

	t.Run("not-loaded", func(t *testing.T) {
		c := E.Case(t, "not-loaded")
		x, err := gerrors.Init(options(nil))
		must(t, err)
		defer x.Close()
		_, err = x.Programs.ErNoTp.AttachTracepoint("syscalls", "sys_enter_getppid")
		wantCode(t, "AttachTracepoint", err, jstr(t, get(c, "expect", "code")))
		for _, n := range strs(get(c, "expect", "messageNames")) {
			if err != nil && !strings.Contains(err.Error(), n) {
				t.Errorf("the message %q does not name %s", err, n)
			}
		}
	})

	t.Run("maps", func(t *testing.T) {
		c := E.Case(t, "maps")
		k := uint32(jint(t, c["key"]))
		x, err := gerrors.Init(options(nil))
		must(t, err)
		defer x.Close()
		kv := x.Maps.ErKv
		_, ok, err := kv.Get(k)
		must(t, err) // absent is not an error
		eq(t, "present", ok, false)
		has, err := kv.Has(k)
		must(t, err)
		eq(t, "has", has, get(c, "expect", "has").(bool))
		del, err := kv.Delete(k)
		must(t, err)
		eq(t, "delete", del, get(c, "expect", "delete").(bool))
		must(t, kv.Set(k, 1))
		err = wantCode(t, "NOEXIST on an existing key", kv.Update(k, 2, gerrors.UpdateFlags(1)), jstr(t, get(c, "expect", "NOEXIST on existing")))
		for _, n := range strs(get(c, "expect", "messageNames")) {
			if err != nil && !strings.Contains(err.Error(), n) {
				t.Errorf("the message %q does not name %s", err, n)
			}
		}
		if !errors.Is(err, syscall.EEXIST) || !errors.Is(err, os.ErrExist) {
			t.Errorf("errors.Is(err, EEXIST / os.ErrExist) is false")
		}
		v, _, err := kv.Get(k)
		must(t, err)
		eq(t, "value", v, 1)
	})

	t.Run("wrong-so", func(t *testing.T) {
		c := E.Case(t, "wrong-so")
		other := buildDir(jstr(t, c["otherScenario"]))
		otherSo := filepath.Join(other, "bpf.so")
		sum := func(f string) string {
			b, err := os.ReadFile(f)
			must(t, err)
			s := sha256.Sum256(b)
			return hex.EncodeToString(s[:])
		}
		ours, theirs := sum(filepath.Join(buildDir("errors"), "bpf.o")), sum(filepath.Join(other, "bpf.o"))
		eq(t, "ObjectSHA256", gerrors.ObjectSHA256, ours)
		if theirs == ours {
			t.Fatalf("both objects have SHA-256 %s", ours)
		}
		code := jstr(t, get(c, "expect", "code"))
		check := func(what string, err error) {
			t.Helper()
			if wantCode(t, what, err, code) == nil {
				return
			}
			for _, s := range []string{ours, theirs, otherSo} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s: %q does not name %s", what, err, s)
				}
			}
			if !errors.Is(err, gerrors.ErrMismatch) {
				t.Errorf("%s: errors.Is(err, ErrMismatch) is false", what)
			}
		}
		_, err := gerrors.Open(&gerrors.Options{SoPath: otherSo})
		check("SoPath", err)
		saved, had := os.LookupEnv("COOLBPF_BPF_SO")
		os.Setenv("COOLBPF_BPF_SO", otherSo)
		_, err = gerrors.Init(options(nil))
		if had {
			os.Setenv("COOLBPF_BPF_SO", saved)
		} else {
			os.Unsetenv("COOLBPF_BPF_SO")
		}
		check("$COOLBPF_BPF_SO", err)
		missing := filepath.Join(other, "no-such-bpf.so")
		_, err = gerrors.Open(&gerrors.Options{SoPath: missing})
		if wantCode(t, "a missing file", err, jstr(t, get(c, "expect", "missingFile"))) != nil && !strings.Contains(err.Error(), missing) {
			t.Errorf("%q does not name %s", err, missing)
		}
		// the right one still works
		x, err := gerrors.Init(options(nil))
		must(t, err)
		defer x.Close()
		trigger(1)
		eq(t, "ok_hits", lcGet(t, "ok_hits", x.Bss.OkHits.Get), 1)
	})

	t.Run("fentry", func(t *testing.T) {
		c := E.Case(t, "fentry")
		x, err := gerrors.Init(options(map[string]bool{"er_fentry": true}))
		if err != nil {
			switch codeOf(err) {
			case "EPERM", "ENOTSUPP", "EOPNOTSUPP", "ESRCH":
				t.Skipf("fentry: the kernel refused it: %s: %s", codeOf(err), strings.SplitN(err.Error(), "\n", 2)[0])
			}
			t.Fatal(err)
		}
		defer x.Close()
		n := int(jint(t, c["triggers"]))
		trigger(n)
		if hits := lcGet(t, "fentry_hits", x.Bss.FentryHits.Get); hits < uint64(n) {
			t.Errorf("fentry_hits %d, want at least %d", hits, n)
		}
	})

	t.Run("exports", func(t *testing.T) {
		// the package's own names for the error type and the update flags
		eq(t, "UpdateAny", uint64(gerrors.UpdateAny), 0)
		eq(t, "UpdateNoExist", uint64(gerrors.UpdateNoExist), 1)
		eq(t, "UpdateExist", uint64(gerrors.UpdateExist), 2)
		_, err := gerrors.Open(&gerrors.Options{SoPath: "/nonexistent"})
		var ge *gerrors.Error
		if !errors.As(err, &ge) {
			t.Fatalf("%T (%v) is not the package's Error", err, err)
		}
		eq(t, "code", string(ge.Code), "ENOENT")
		for _, s := range []error{gerrors.ErrState, gerrors.ErrDestroyed, gerrors.ErrMismatch} {
			if _, ok := s.(*gerrors.Error); !ok {
				t.Errorf("%v is not a *Error", s)
			}
		}
	})
}
