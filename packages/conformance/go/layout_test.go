// layout: the generated types' layout metadata against the C compiler's (a
// probe program compiled on the host from the scenario's types and from
// bpftool's dump of the object's BTF), bitfields through BPF in both
// directions, and C-initialized globals decoded in .data and in a map.
package conformance

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"coolbpf.local/layout"
	ltrt "coolbpf.local/layout/coolbpf"
)

// keyOf is the model's key of one of expect.json's types: `struct P.m` is
// the anonymous type of member m of struct P (key `struct P__m`).
func keyOf(c string) string { return strings.Replace(c, ".", "__", 1) }

// cTypeOf is a C expression for one of expect.json's types.
func cTypeOf(c string) string {
	if i := strings.IndexByte(c, '.'); i >= 0 {
		return fmt.Sprintf("__typeof__(((%s *)0)->%s)", c[:i], c[i+1:])
	}
	return c
}

// probe is what the C compiler says of the types.
type probe struct {
	size   map[string][2]int   // type → size, align
	member map[string][2]int   // type|field → offset, size
	bits   map[string][3]int   // type|field → first bit, width, bits set
	enumv  map[string]*big.Int // enum|name → value
}

func runProbe(t *testing.T, variant string, types []string, byKey map[string]ltrt.TypeLayout, enums map[string]any) probe {
	t.Helper()
	dir := filepath.Join(t.TempDir(), variant)
	must(t, os.MkdirAll(dir, 0o755))
	var header string
	if variant == "btf" {
		out, err := exec.Command("bpftool", "btf", "dump", "file", filepath.Join(buildDir("layout"), "bpf.o"), "format", "c").Output()
		must(t, err)
		header = "#define BPF_NO_PRESERVE_ACCESS_INDEX\n" + string(out)
	} else {
		src, err := filepath.Abs(filepath.Join("..", "scenarios", "layout", "layout.types.h"))
		must(t, err)
		header = "#include <linux/types.h>\n#include \"" + src + "\"\n"
	}
	must(t, os.WriteFile(filepath.Join(dir, "types.h"), []byte(header), 0o644))
	lines := []string{`#include "types.h"`, "#include <stdio.h>", "#include <stddef.h>", "#include <string.h>",
		"static void bits(const char *key, const unsigned char *p, size_t n) {",
		"  int lo = -1, hi = -1, count = 0;",
		"  for (size_t i = 0; i < n * 8; i++) if (p[i / 8] >> (i % 8) & 1) { if (lo < 0) lo = (int)i; hi = (int)i; count++; }",
		`  printf("bits|%s|%d|%d|%d\n", key, lo, hi - lo + 1, count);`, "}",
		"int main(void) {"}
	for _, c := range types {
		T := cTypeOf(c)
		lines = append(lines, fmt.Sprintf(`  printf("size|%s|%%zu|%%zu\n", sizeof(%s), _Alignof(%s));`, c, T, T))
		for _, f := range byKey[keyOf(c)].Fields {
			if !f.Bitfield {
				lines = append(lines, fmt.Sprintf(`  printf("member|%s|%s|%%zu|%%zu\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));`, c, f.Name, T, f.CPath, T, f.CPath))
			} else {
				lines = append(lines, fmt.Sprintf(`  { %s v; memset(&v, 0, sizeof v); v.%s = -1; bits("%s|%s", (const unsigned char *)&v, sizeof v); }`, T, f.CPath, c, f.Name))
			}
		}
	}
	for _, e := range keysOf(enums) {
		for _, k := range keysOf(enums[e].(map[string]any)) {
			lines = append(lines, fmt.Sprintf(`  if ((%s) < 0) printf("enum|%s|%s|%%lld\n", (long long)(%s)); else printf("enum|%s|%s|%%llu\n", (unsigned long long)(%s));`, k, e, k, k, e, k, k))
		}
	}
	lines = append(lines, "  return 0;", "}")
	must(t, os.WriteFile(filepath.Join(dir, "probe.c"), []byte(strings.Join(lines, "\n")), 0o644))
	cc := exec.Command("cc", "-w", "-O0", "-o", filepath.Join(dir, "probe"), filepath.Join(dir, "probe.c"))
	cc.Dir = dir
	if out, err := cc.CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(dir, "probe")).Output()
	must(t, err)
	p := probe{size: map[string][2]int{}, member: map[string][2]int{}, bits: map[string][3]int{}, enumv: map[string]*big.Int{}}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		n := func(i int) int { v, _ := strconv.Atoi(f[i]); return v }
		switch f[0] {
		case "size":
			p.size[f[1]] = [2]int{n(2), n(3)}
		case "member":
			p.member[f[1]+"|"+f[2]] = [2]int{n(3), n(4)}
		case "bits":
			p.bits[f[1]+"|"+f[2]] = [3]int{n(3), n(4), n(5)}
		case "enum":
			v, _ := new(big.Int).SetString(f[3], 10)
			p.enumv[f[1]+"|"+f[2]] = v
		}
	}
	return p
}

func TestLayout(t *testing.T) {
	E := expected(t, "layout")
	ls := layoutsOf(layout.Layouts())
	byKey := map[string]ltrt.TypeLayout{}
	for _, l := range layout.Layouts() {
		byKey[l.Key] = l
	}
	var types []string
	for _, c := range jlist(t, E["types"]) {
		types = append(types, jstr(t, c))
	}
	enums := get(E, "enums").(map[string]any)

	t.Run("types-complete", func(t *testing.T) {
		var got, want []string
		for k := range byKey {
			got = append(got, k)
		}
		for _, c := range types {
			want = append(want, keyOf(c))
		}
		sort.Strings(got)
		sort.Strings(want)
		eq(t, "types", strings.Join(got, ", "), strings.Join(want, ", "))
	})

	t.Run("c-layout", func(t *testing.T) {
		noCC := ""
		if _, err := exec.LookPath("cc"); err != nil {
			noCC = "no C compiler (cc)"
		} else if _, err := exec.LookPath("bpftool"); err != nil {
			noCC = "bpftool is not installed"
		}
		if noCC != "" {
			t.Skip("layout against the C compiler: " + noCC)
		}
		probes := map[string]probe{"source": runProbe(t, "source", types, byKey, enums), "btf": runProbe(t, "btf", types, byKey, enums)}
		for _, variant := range []string{"source", "btf"} {
			t.Run(variant, func(t *testing.T) {
				p := probes[variant]
				fields, bitfields := 0, 0
				for _, c := range types {
					l := byKey[keyOf(c)]
					eq(t, c+" size", l.Size, p.size[c][0])
					for _, f := range l.Fields {
						if !f.Bitfield {
							fields++
							eq(t, c+"."+f.Name, fmt.Sprint(f.Offset, f.Size), fmt.Sprint(p.member[c+"|"+f.Name][0], p.member[c+"|"+f.Name][1]))
							continue
						}
						bitfields++
						b := p.bits[c+"|"+f.Name]
						eq(t, c+"."+f.Name+": C set a contiguous run", b[2], b[1])
						offset := b[0] / 8
						size := (b[0]+b[1]+7)/8 - offset
						eq(t, c+"."+f.Name, fmt.Sprint(f.BitOffset, f.BitWidth, f.Offset, f.Size), fmt.Sprint(b[0], b[1], offset, size))
					}
				}
				if fields <= 100 || bitfields <= 2*64+16 {
					t.Errorf("%d fields, %d bitfields checked", fields, bitfields)
				}
				// enums have the values C gives their enumerators
				gen := map[string]ltrt.EnumLayout{}
				for _, e := range layout.Enums() {
					gen[e.Key] = e
				}
				for _, e := range keysOf(enums) {
					values := enums[e].(map[string]any)
					g := gen[e]
					eq(t, e+" enumerators", len(g.Values), len(values))
					for _, v := range g.Values {
						want := jbig(t, values[v.C])
						eq(t, e+"."+v.C, v.String(), want.String())
						eq(t, e+"."+v.C+" (C)", p.enumv[e+"|"+v.C].String(), want.String())
					}
				}
			})
		}
		t.Run("alignment", func(t *testing.T) {
			notInBtf := get(E.Case(t, "c-layout"), "alignmentNotInBtf").(map[string]any)
			for _, c := range types {
				src, btf := probes["source"].size[c][1], probes["btf"].size[c][1]
				want := btf
				if v, ok := notInBtf[c]; ok {
					want = int(jint(t, v))
				}
				eq(t, c+" source alignment", src, want)
				eq(t, c+" generated alignment", byKey[keyOf(c)].Align, btf)
			}
			if len(notInBtf) == 0 {
				t.Errorf("alignmentNotInBtf lists nothing")
			}
		})
	})

	t.Run("data-initialized", func(t *testing.T) {
		skipWithoutKernel(t)
		want := get(E.Case(t, "data-initialized"), "expect").(map[string]any)
		opened, err := layout.Open(&layout.Options{Rodata: func(r *layout.Rodata) error { r.TargetTgid = uint32(os.Getpid()); return nil }})
		must(t, err)
		defer opened.Close()
		check := func(when string, d layout.Data) {
			t.Helper()
			sameValue(t, when+": lt_all_data", ls, d.LtAllData, want["lt_all_data"])
			sameValue(t, when+": lt_ladder_u_data", ls, d.LtLadderUData, want["lt_ladder_u_data"])
			sameValue(t, when+": lt_ladder_s_data", ls, d.LtLadderSData, want["lt_ladder_s_data"])
		}
		d, err := opened.Data.Read()
		must(t, err)
		check("before load", d)
		x, err := opened.Load()
		must(t, err)
		must(t, x.Attach())
		d, err = x.Data.Read()
		must(t, err)
		check("after load", d)
		trigger(1)
		all, ok, err := x.Maps.LtAllMap.Get(0)
		must(t, err)
		eq(t, "lt_all_map[0] present", ok, true)
		sameValue(t, "lt_all_map[0]", ls, all, want["lt_all_data"])
		eq(t, "decoded in .data and in the map", all, d.LtAllData)
		// encoding the same values gives C's bytes (padding included)
		raw := x.Maps.LtAllMap.Raw()
		info, err := raw.Info()
		must(t, err)
		key := make([]byte, 4)
		cBytes := make([]byte, info.ValueBufferSize)
		found, err := raw.Lookup(key, cBytes, 0)
		must(t, err)
		eq(t, "found", found, true)
		if bytes.Count(cBytes, []byte{0}) == len(cBytes) {
			t.Fatalf("C's bytes are all zero")
		}
		must(t, x.Maps.LtAllMap.Set(0, all))
		ours := make([]byte, len(cBytes))
		_, err = raw.Lookup(key, ours, 0)
		must(t, err)
		eq(t, "our bytes", hex.EncodeToString(ours), hex.EncodeToString(cBytes))
		mb, err := all.MarshalBinary()
		must(t, err)
		eq(t, "MarshalBinary", hex.EncodeToString(mb), hex.EncodeToString(cBytes))
	})

	// A set of bitValues as the plain integers of struct lt_plainset (flag as 0 or 1).
	plainOf := func(s map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		bits := map[string]any{}
		for k, v := range s["bits"].(map[string]any) {
			bits[k] = v
		}
		if b, ok := bits["flag"].(bool); ok {
			bits["flag"] = jsonNumber(map[bool]int{true: 1, false: 0}[b])
		}
		out["bits"] = bits
		return out
	}
	sets := get(E, "bitValues").(map[string]any)
	through := func(t *testing.T, f func(x *layout.Layout, bitsIn layout.LtBitset, plain layout.LtPlainset)) {
		skipWithoutKernel(t)
		for _, name := range keysOf(sets) {
			t.Run(name, func(t *testing.T) {
				set := sets[name].(map[string]any)
				var bitsIn layout.LtBitset
				setNeutral(t, ls, reflect.ValueOf(&bitsIn).Elem(), set)
				var plain layout.LtPlainset
				setNeutral(t, ls, reflect.ValueOf(&plain).Elem(), plainOf(set))
				// sanity: the values round-trip through the codec alone
				b, err := bitsIn.MarshalBinary()
				must(t, err)
				var back layout.LtBitset
				must(t, back.UnmarshalBinary(b))
				eq(t, "round trip", back, bitsIn)
				sameValue(t, "set", ls, bitsIn, set)

				x, err := layout.Init(&layout.Options{Rodata: func(r *layout.Rodata) error { r.TargetTgid = uint32(os.Getpid()); return nil }})
				must(t, err)
				defer x.Close()
				must(t, x.Maps.LtBitsIn.Set(0, bitsIn))
				must(t, x.Maps.LtPlainIn.Set(0, plain))
				trigger(1)
				f(x, bitsIn, plain)
			})
		}
	}
	t.Run("bits-to-c", func(t *testing.T) {
		through(t, func(x *layout.Layout, _ layout.LtBitset, plain layout.LtPlainset) {
			// the wrapper's bitfields, as C read them
			got, _, err := x.Maps.LtPlainOut.Get(0)
			must(t, err)
			if got != plain {
				sameValue(t, "lt_plain_out[0]", ls, got, neutral(ls, reflect.ValueOf(plain)))
				t.Errorf("lt_plain_out[0] differs")
			}
		})
	})
	t.Run("c-to-bits", func(t *testing.T) {
		through(t, func(x *layout.Layout, bitsIn layout.LtBitset, _ layout.LtPlainset) {
			// C's bitfields, as the wrapper reads them
			got, _, err := x.Maps.LtBitsOut.Get(0)
			must(t, err)
			if got != bitsIn {
				sameValue(t, "lt_bits_out[0]", ls, got, neutral(ls, reflect.ValueOf(bitsIn)))
				t.Errorf("lt_bits_out[0] differs")
			}
		})
	})
}

func jsonNumber(i int) json.Number { return json.Number(strconv.Itoa(i)) }
