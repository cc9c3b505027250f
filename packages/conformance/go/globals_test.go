// globals: .rodata of every scalar kind, set before load and copied by BPF
// into .bss; .data and .data.custom written live and read by BPF; initial
// values of every writable section; .rodata read-only after load.
package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"coolbpf.local/globals"
)

func TestGlobals(t *testing.T) {
	skipWithoutKernel(t)
	E := expected(t, "globals")
	ls := layoutsOf(globals.Layouts())
	pid := uint32(os.Getpid())
	defaults := get(E, "defaults").(map[string]any)
	values := get(E, "values").(map[string]any)
	names := keysOf(defaults)
	mirror := func(n string) string { return "m_" + strings.TrimPrefix(n, "r_") }
	same := func(n string) string { return n }
	target := func(r *globals.Rodata) error { r.TargetTgid = pid; return nil }
	// expect.json's values set on a Rodata (and target_tgid)
	setAll := func(t *testing.T, r *globals.Rodata, v map[string]any) {
		t.Helper()
		setNeutral(t, ls, valueOf(r), v)
		r.TargetTgid = pid
	}
	check := func(t *testing.T, what string, got map[string]any, want map[string]any) {
		t.Helper()
		if d := sameNeutral(what, got, want); d != "" {
			t.Error(d)
		}
	}
	rodataOf := func(t *testing.T, r globals.Rodata) map[string]any {
		return sectionNeutral(ls, r, names, same)
	}
	mirrorOf := func(t *testing.T, b globals.Bss) map[string]any {
		return sectionNeutral(ls, b, names, mirror)
	}

	t.Run("rodata-defaults", func(t *testing.T) {
		x, err := globals.Init(&globals.Options{Rodata: target})
		must(t, err)
		defer x.Close()
		r, err := x.Rodata.Read()
		must(t, err)
		check(t, "rodata", rodataOf(t, r), defaults)
		trigger(1)
		b, err := x.Bss.Read()
		must(t, err)
		eq(t, "copies", b.Copies, 1)
		check(t, "mirror", mirrorOf(t, b), defaults)
	})

	t.Run("rodata-init", func(t *testing.T) {
		x, err := globals.Init(&globals.Options{Rodata: func(r *globals.Rodata) error { setAll(t, r, values); return nil }})
		must(t, err)
		defer x.Close()
		r, err := x.Rodata.Read()
		must(t, err)
		check(t, "rodata", rodataOf(t, r), values)
		trigger(1)
		b, err := x.Bss.Read()
		must(t, err)
		check(t, "mirror", mirrorOf(t, b), values)
		// values beyond 2^53 and negative 64-bit ones came through exactly
		eq(t, "m_u64", b.MU64, 18446744073709551557)
		eq(t, "m_s64", b.MS64, -9223372036854775807)
	})

	t.Run("rodata-open", func(t *testing.T) {
		opened, err := globals.Open(nil)
		must(t, err)
		defer opened.Close()
		must(t, opened.Rodata.TargetTgid.Set(pid))
		// each value set on its own variable, and read back before load
		var want globals.Rodata
		setAll(t, &want, values)
		vars := reflect.ValueOf(opened.Rodata)
		wv := reflect.ValueOf(want)
		for _, n := range names {
			v := vars.FieldByName(goName(n))
			r := v.MethodByName("Set").Call([]reflect.Value{wv.FieldByName(goName(n))})
			if err, _ := r[0].Interface().(error); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			back := v.MethodByName("Get").Call(nil)
			if err, _ := back[1].Interface().(error); err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			if d := sameNeutral(n, neutral(ls, back[0]), values[n]); d != "" {
				t.Error(d)
			}
		}
		r, err := opened.Rodata.Read()
		must(t, err)
		check(t, "rodata before load", rodataOf(t, r), values)
		x, err := opened.Load()
		must(t, err)
		must(t, x.Attach())
		r, err = x.Rodata.Read()
		must(t, err)
		check(t, "rodata after load", rodataOf(t, r), values)
		trigger(1)
		b, err := x.Bss.Read()
		must(t, err)
		check(t, "mirror", mirrorOf(t, b), values)
	})

	t.Run("rodata-read-only", func(t *testing.T) {
		x, err := globals.Init(&globals.Options{Rodata: target})
		must(t, err)
		defer x.Close()
		before, err := x.Rodata.RU32.Get()
		must(t, err)
		// the loaded object's .rodata variables have no Set: a write does not compile
		if reflect.ValueOf(x.Rodata.RU32).MethodByName("Set").IsValid() {
			t.Errorf("the loaded .rodata's RU32 has a Set method")
		}
		// writing the section's bytes anyway is refused, saying why
		err = x.Rodata.Section().Write(x.Rodata.RU32.Offset(), []byte{1, 0, 0, 0})
		if err == nil || !regexp.MustCompile(`\.rodata.*read-only`).MatchString(err.Error()) {
			t.Errorf("writing .rodata after load: %v, want an error saying it is read-only", err)
		}
		wantCode(t, "write after load", err, "ESTATE")
		after, err := x.Rodata.RU32.Get()
		must(t, err)
		eq(t, "r_u32 unchanged", after, before)
		trigger(1)
		eq(t, "m_u32", lcGet(t, "m_u32", x.Bss.MU32.Get), before)
	})

	t.Run("data-live", func(t *testing.T) {
		c := E.Case(t, "data-live")
		x, err := globals.Init(&globals.Options{Rodata: target})
		must(t, err)
		defer x.Close()
		eq(t, "live_in default", lcGet(t, "live_in", x.Data.LiveIn.Get), juint(t, get(c, "expect", "live_in default")))
		must(t, x.Data.LiveIn.Set(juint(t, c["liveIn"])))
		eq(t, "live_in", lcGet(t, "live_in", x.Data.LiveIn.Get), juint(t, c["liveIn"]))
		trigger(int(jint(t, c["triggers"])))
		eq(t, "live_seen", lcGet(t, "live_seen", x.Bss.LiveSeen.Get), juint(t, get(c, "expect", "live_seen")))
		eq(t, "d_counter", lcGet(t, "d_counter", x.Data.DCounter.Get), juint(t, get(c, "expect", "d_counter")))
		eq(t, "copies", lcGet(t, "copies", x.Bss.Copies.Get), juint(t, get(c, "expect", "copies")))
	})

	t.Run("data-custom", func(t *testing.T) {
		c := E.Case(t, "data-custom")
		x, err := globals.Init(&globals.Options{Rodata: target})
		must(t, err)
		defer x.Close()
		eq(t, "custom_in default", lcGet(t, "custom_in", x.DataCustom.CustomIn.Get), juint(t, get(c, "expect", "custom_in default")))
		eq(t, "custom_hits", lcGet(t, "custom_hits", x.DataCustom.CustomHits.Get), 0)
		must(t, x.DataCustom.CustomIn.Set(juint(t, c["customIn"])))
		trigger(int(jint(t, c["triggers"])))
		eq(t, "custom_seen", lcGet(t, "custom_seen", x.Bss.CustomSeen.Get), juint(t, get(c, "expect", "custom_seen")))
		eq(t, "custom_hits", lcGet(t, "custom_hits", x.DataCustom.CustomHits.Get), uint32(jint(t, get(c, "expect", "custom_hits"))))
	})

	t.Run("initial-values", func(t *testing.T) {
		c := E.Case(t, "initial-values")
		i := func(k string) uint64 { return juint(t, get(c, "initial", k)) }
		x, err := globals.Init(&globals.Options{
			Rodata:     target,
			Data:       func(d *globals.Data) error { d.LiveIn = i("live_in"); return nil },
			DataCustom: func(d *globals.DataCustom) error { d.CustomIn = i("custom_in"); return nil },
			Bss:        func(b *globals.Bss) error { b.BInitial = i("b_initial"); return nil },
		})
		must(t, err)
		defer x.Close()
		eq(t, "b_initial", lcGet(t, "b_initial", x.Bss.BInitial.Get), juint(t, get(c, "expect", "b_initial")))
		trigger(1)
		eq(t, "live_seen", lcGet(t, "live_seen", x.Bss.LiveSeen.Get), juint(t, get(c, "expect", "live_seen")))
		eq(t, "custom_seen", lcGet(t, "custom_seen", x.Bss.CustomSeen.Get), juint(t, get(c, "expect", "custom_seen")))
		eq(t, "b_initial after", lcGet(t, "b_initial", x.Bss.BInitial.Get), juint(t, get(c, "expect", "b_initial")))
	})

	t.Run("out-of-range", func(t *testing.T) {
		opened, err := globals.Open(nil)
		must(t, err)
		defer opened.Close()
		// a string longer than its char[n]: refused at run time, nothing written
		var long globals.CString16
		err = long.Set(strings.Repeat("x", 17))
		wantCode(t, "a 17-byte r_name", err, "ERANGE")
		err = opened.Rodata.Update(func(r *globals.Rodata) error { return r.RName.Set(strings.Repeat("x", 17)) })
		wantCode(t, "a 17-byte r_name through Update", err, "ERANGE")
		name, err := opened.Rodata.RName.Get()
		must(t, err)
		eq(t, "r_name unchanged", name.String(), jstr(t, defaults["r_name"]))
		// integers out of their C type's range: refused when the program is
		// compiled (each field has its C type's width and signedness)
		refusedByCompiler(t, map[string]string{
			"r.RU8 = 256":                     "overflows",
			"r.RS8 = -129":                    "overflows",
			"r.RU32 = -1":                     "overflows",
			"r.RU64 = -1":                     "overflows",
			"r.RS64 = 1 << 63":                "overflows",
			"r.RU16 = 65536":                  "overflows",
			"r.RName = \"17-bytes-long-str\"": "cannot use",
		})
		eq(t, "r_u8 unchanged", lcGet(t, "r_u8", opened.Rodata.RU8.Get), uint8(jint(t, defaults["r_u8"])))
	})
}

// refusedByCompiler builds a program that makes each assignment to a
// globals.Rodata r, and checks that the Go compiler refuses every one with
// an error containing the given text.
func refusedByCompiler(t *testing.T, assignments map[string]string) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to compile with")
	}
	dir := t.TempDir()
	pkg, err := filepath.Abs(filepath.Join(buildDir("globals"), "go"))
	must(t, err)
	lines := []string{"package main", "", `import "coolbpf.local/globals"`, "", "func main() {", "\tvar r globals.Rodata"}
	var order []string
	for a := range assignments {
		order = append(order, a)
	}
	sortStrings(order)
	for _, a := range order {
		lines = append(lines, "\t"+a)
	}
	lines = append(lines, "\t_ = r", "}", "")
	must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(strings.Join(lines, "\n")), 0o644))
	mod := "module refused\n\ngo 1.19\n\nrequire coolbpf.local/globals v0.0.0\n\nreplace coolbpf.local/globals => " + pkg + "\n"
	must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644))
	cmd := exec.Command("go", "build", "-gcflags=-e", "-o", os.DevNull, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the out-of-range assignments compiled")
	}
	for i, a := range order {
		line := regexp.MustCompile(`main\.go:` + itoa(7+i) + `:\d+: [^\n]*`).Find(out)
		if line == nil || !strings.Contains(string(line), assignments[a]) {
			t.Errorf("%s: the compiler said %q, want an error containing %q\n%s", a, line, assignments[a], out)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
