// maps: every common map kind used from both sides: the test's typed
// Get/Set/Update/Delete/Has/iteration, and a BPF program that updates the
// same maps on every getppid(2) of this process.
package conformance

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"coolbpf.local/maps"
	mapsrt "coolbpf.local/maps/coolbpf"
)

type (
	maps_iter         = mapsrt.MapIterator[maps.MpFlowKey, maps.MpFlowStats]
	maps_iter_options = mapsrt.IterOptions
	mapInfo           = mapsrt.MapInfo
)

func infoOf(f func() (mapInfo, error)) func() (mapInfo, error) { return f }

func TestMaps(t *testing.T) {
	skipWithoutKernel(t)
	E := expected(t, "maps")
	flag := func(name string) maps.UpdateFlags { return maps.UpdateFlags(juint(t, get(E, "updateFlags", name))) }
	eq(t, "UpdateNoExist", maps.UpdateNoExist, flag("NOEXIST"))
	eq(t, "UpdateExist", maps.UpdateExist, flag("EXIST"))
	eq(t, "UpdateAny", maps.UpdateAny, flag("ANY"))
	ls := layoutsOf(maps.Layouts())
	// a fresh object per case: maps start empty
	fresh := func(t *testing.T) *maps.Maps {
		t.Helper()
		pid := uint32(os.Getpid())
		x, err := maps.Init(&maps.Options{Rodata: func(r *maps.Rodata) error { r.TargetTgid = pid; return nil }})
		must(t, err)
		t.Cleanup(func() { _ = x.Close() })
		return x
	}
	flowKey := func(v any) maps.MpFlowKey {
		var k maps.MpFlowKey
		setNeutral(t, ls, valueOf(&k), v)
		return k
	}
	flowStats := func(v any) maps.MpFlowStats {
		var s maps.MpFlowStats
		setNeutral(t, ls, valueOf(&s), v)
		return s
	}

	t.Run("hash-struct-key", func(t *testing.T) {
		c := E.Case(t, "hash-struct-key")
		x := fresh(t)
		key := flowKey(c["key"])
		initial := flowStats(c["initial"])
		flows := x.Maps.MpFlows
		must(t, flows.Update(key, initial, maps.UpdateNoExist))
		got, ok, err := flows.Get(key)
		must(t, err)
		eq(t, "present", ok, true)
		eq(t, "read back", got, initial)
		trigger(int(jint(t, c["triggers"])))
		got, _, err = flows.Get(key)
		must(t, err)
		sameValue(t, "after the triggers", ls, got, c["expect"])
		has, err := flows.Has(key)
		must(t, err)
		eq(t, "has", has, true)
		absent := flowKey(c["absentKey"])
		_, ok, err = flows.Get(absent)
		must(t, err)
		eq(t, "absent key present", ok, false)
		has, err = flows.Has(absent)
		must(t, err)
		eq(t, "has absent", has, false)
		// the key decodes as it was written
		keys, err := flows.Keys()
		must(t, err)
		eq(t, "keys", fmt.Sprint(keys), fmt.Sprint([]maps.MpFlowKey{key}))
		eq(t, "bss.triggers", lcGet(t, "triggers", x.Bss.Triggers.Get), uint64(jint(t, c["triggers"])))
	})

	t.Run("flags", func(t *testing.T) {
		c := E.Case(t, "flags")
		x := fresh(t)
		m := x.Maps.MpSmall
		k, missing := uint32(jint(t, c["key"])), uint32(jint(t, c["missing"]))
		value, replacement := juint(t, c["value"]), juint(t, c["replacement"])
		must(t, m.Set(k, value))
		err := wantCode(t, "NOEXIST on an existing key", m.Update(k, 1, maps.UpdateNoExist), jstr(t, get(c, "expect", "NOEXIST on existing")))
		if err != nil && !strings.Contains(err.Error(), "mp_small") {
			t.Errorf("the error does not name the map: %v", err)
		}
		wantCode(t, "EXIST on a missing key", m.Update(missing, 1, maps.UpdateExist), jstr(t, get(c, "expect", "EXIST on missing")))
		v, _, err := m.Get(k)
		must(t, err)
		eq(t, "the failed updates changed nothing", v, value)
		has, err := m.Has(missing)
		must(t, err)
		eq(t, "has missing", has, false)
		must(t, m.Update(k, replacement, maps.UpdateExist))
		v, _, err = m.Get(k)
		must(t, err)
		eq(t, "replaced", v, replacement)
		del, err := m.Delete(k)
		must(t, err)
		eq(t, "delete", del, true)
		del, err = m.Delete(k)
		must(t, err)
		eq(t, "delete again", del, false)
		_, ok, err := m.Get(k)
		must(t, err)
		eq(t, "present after delete", ok, false)
		has, err = m.Has(k)
		must(t, err)
		eq(t, "has after delete", has, false)
	})

	t.Run("full", func(t *testing.T) {
		c := E.Case(t, "full")
		x := fresh(t)
		m := x.Maps.MpSmall
		max := int(jint(t, get(E, "sizes", "maps", "mp_small", "maxEntries")))
		for i := 0; i < max; i++ {
			must(t, m.Update(uint32(i), uint64(i*10), maps.UpdateNoExist))
		}
		wantCode(t, "one more key", m.Set(uint32(max), 1), jstr(t, get(c, "expect", "error")))
		must(t, m.Set(0, 99))
		v, _, err := m.Get(0)
		must(t, err)
		eq(t, "replaced in a full map", v, 99)
		keys, err := m.Keys()
		must(t, err)
		eq(t, "size", len(keys), int(jint(t, get(c, "expect", "size"))))
	})

	t.Run("array", func(t *testing.T) {
		c := E.Case(t, "array")
		x := fresh(t)
		a := x.Maps.MpArray
		vals, err := a.Values()
		must(t, err)
		eq(t, "initial values", fmt.Sprint(vals), "[0 0 0 0]")
		trigger(int(jint(t, c["triggers"])))
		var want []uint64
		for _, v := range jlist(t, get(c, "expect", "values")) {
			want = append(want, juint(t, v))
		}
		for i, w := range want {
			v, ok, err := a.Get(uint32(i))
			must(t, err)
			eq(t, fmt.Sprintf("[%d] present", i), ok, true)
			eq(t, fmt.Sprintf("[%d]", i), v, w)
		}
		entries, err := a.Entries()
		must(t, err)
		eq(t, "entries", len(entries), len(want))
		for i, w := range want {
			eq(t, fmt.Sprintf("entries[%d]", i), entries[uint32(i)], w)
		}
		it := a.Iterate()
		for i := 0; it.Next(); i++ {
			eq(t, "iteration order: key", it.Key(), uint32(i))
			eq(t, "iteration order: value", it.Value(), want[i])
		}
		must(t, it.Err())
		_, ok, err := a.Get(4)
		must(t, err)
		eq(t, "past the end present", ok, false)
		has, err := a.Has(4)
		must(t, err)
		eq(t, "has past the end", has, false)
		wantCode(t, "set past the end", a.Set(4, 1), jstr(t, get(c, "expect", "setPastEnd")))
		_, err = a.Delete(0)
		wantCode(t, "delete", err, jstr(t, get(c, "expect", "delete")))
		wantCode(t, "NOEXIST", a.Update(0, 100, maps.UpdateNoExist), jstr(t, get(c, "expect", "NOEXIST")))
		must(t, a.Update(1, 5, maps.UpdateExist))
		v, _, err := a.Get(1)
		must(t, err)
		eq(t, "EXIST works", v, 5)
	})

	t.Run("percpu", func(t *testing.T) {
		c := E.Case(t, "percpu")
		cpus := allowedCPUs()
		if len(cpus) < 2 {
			t.Skipf("per-CPU values by CPU: this process may run on %d CPU only", len(cpus))
		}
		a, b := cpus[0], cpus[1]
		na, nb := int(jint(t, get(c, "triggers", "a"))), int(jint(t, get(c, "triggers", "b")))
		x := fresh(t)
		n := possibleCPUs(t)
		arr, hash := x.Maps.MpPcpuArray, x.Maps.MpPcpuHash
		eq(t, "array CPUs", arr.CPUs(), n)
		eq(t, "hash CPUs", hash.CPUs(), n)
		onCPU(t, a, func() { triggerHere(na) })
		onCPU(t, b, func() { triggerHere(nb) })
		values, ok, err := arr.Get(0)
		must(t, err)
		eq(t, "present", ok, true)
		eq(t, "one value per possible CPU", len(values), n)
		var sum uint64
		for i, v := range values {
			want := uint64(0)
			if i == a {
				want = uint64(na)
			} else if i == b {
				want = uint64(nb)
			}
			eq(t, fmt.Sprintf("CPU %d", i), v, want)
			sum += v
		}
		eq(t, "sum", sum, juint(t, get(c, "expect", "sum")))
		tallies, ok, err := hash.Get(uint32(jint(t, c["pcpuHashKey"])))
		must(t, err)
		eq(t, "tallies present", ok, true)
		eq(t, "tallies", len(tallies), n)
		eq(t, "tally a", tallies[a], maps.MpCpuTally{Count: uint64(na), Cpu: uint32(a)})
		eq(t, "tally b", tallies[b], maps.MpCpuTally{Count: uint64(nb), Cpu: uint32(b)})
		// values set from the test land on their CPUs
		mine := make([]uint64, n)
		for i := range mine {
			mine[i] = uint64(100 * (i + 1))
		}
		must(t, arr.Set(0, mine))
		got, _, err := arr.Get(0)
		must(t, err)
		eq(t, "set values", fmt.Sprint(got), fmt.Sprint(mine))
		onCPU(t, a, func() { triggerHere(1) })
		got, _, err = arr.Get(0)
		must(t, err)
		mine[a]++
		eq(t, "one more on CPU a", fmt.Sprint(got), fmt.Sprint(mine))
		entries, err := arr.Entries()
		must(t, err)
		eq(t, "entries", fmt.Sprint(entries), fmt.Sprint(map[uint32][]uint64{0: mine}))
		if err := arr.Set(0, mine[1:]); err == nil {
			t.Errorf("a value per CPU but one: no error")
		}
	})

	t.Run("lru", func(t *testing.T) {
		c := E.Case(t, "lru")
		x := fresh(t)
		lru := x.Maps.MpLru
		n := int(jint(t, c["triggers"]))
		trigger(n)
		for i := 0; i < n; i++ {
			v, ok, err := lru.Get(uint64(1000 + i))
			must(t, err)
			eq(t, fmt.Sprintf("lru[%d] present", 1000+i), ok, true)
			eq(t, fmt.Sprintf("lru[%d]", 1000+i), v, uint64(i*i))
		}
		inserted := int(jint(t, c["inserted"]))
		for i := 0; i < inserted; i++ {
			must(t, lru.Set(uint64(10_000+i), uint64(i)))
		}
		keys, err := lru.Keys()
		must(t, err)
		if len(keys) == 0 || len(keys) > int(jint(t, get(c, "expect", "maxEntries"))) {
			t.Errorf("%d keys", len(keys))
		}
		v, ok, err := lru.Get(uint64(10_000 + inserted - 1))
		must(t, err)
		eq(t, "newest present", ok, true)
		eq(t, "newest", v, uint64(inserted-1))
		seen := map[uint64]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("key %d twice", k)
			}
			seen[k] = true
		}
	})

	t.Run("iterate", func(t *testing.T) {
		c := E.Case(t, "iterate")
		x := fresh(t)
		flows := x.Maps.MpFlows
		n := int(jint(t, c["entries"]))
		want := map[maps.MpFlowKey]maps.MpFlowStats{}
		for i := 0; i < n; i++ {
			k := maps.MpFlowKey{Addr: uint32(i), Port: uint16(i % 65536), Proto: 17}
			v := maps.MpFlowStats{Packets: uint64(i), Bytes: uint64(i * 1000), Label: maps.MustCString8(fmt.Sprintf("f%d", i)), Delta: int32(-i)}
			must(t, flows.Update(k, v, maps.UpdateNoExist))
			want[k] = v
		}
		check := func(what string, it *maps_iter) {
			t.Helper()
			got := map[maps.MpFlowKey]maps.MpFlowStats{}
			count := 0
			for it.Next() {
				got[it.Key()] = it.Value()
				count++
			}
			must(t, it.Err())
			eq(t, what+": entries", count, n)
			eq(t, what+": distinct", len(got), n)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %+v: got %+v, want %+v", what, k, got[k], v)
					break
				}
			}
		}
		batch := flows.Iterate()
		check("batch", batch)
		st := batch.Stats()
		eq(t, "batch lookup used", st.Batch, true)
		if st.BatchCalls <= 1 || st.NextKeyCalls != 0 {
			t.Errorf("batch walk: %+v, want more than one batch (600 entries) and no next_key", st)
		}
		// the next_key path, as on a kernel or map type without batch operations
		next := flows.IterateWith(maps_iter_options{NoBatch: true})
		check("next_key", next)
		st = next.Stats()
		if st.Batch || st.BatchCalls != 0 || st.NextKeyCalls < n {
			t.Errorf("next_key walk: %+v", st)
		}
		keys, err := flows.Keys()
		must(t, err)
		eq(t, "keys", len(keys), n)
		values, err := flows.Values()
		must(t, err)
		labels := map[string]bool{}
		for _, v := range values {
			labels[v.Label.String()] = true
		}
		eq(t, "values", len(labels), n)

		lpm := x.Maps.MpLpm
		prefixes := jlist(t, c["lpm"])
		wantLpm := map[string]uint32{}
		for _, p := range prefixes {
			var k maps.MpLpmKey
			setNeutral(t, ls, valueOf(&k), map[string]any{"prefixlen": get(p, "prefixlen"), "addr": get(p, "addr")})
			must(t, lpm.Set(k, uint32(jint(t, get(p, "value")))))
			wantLpm[fmt.Sprint(k)] = uint32(jint(t, get(p, "value")))
		}
		entries, err := lpm.Entries()
		must(t, err)
		eq(t, "lpm entries", len(entries), len(wantLpm))
		for k, v := range entries {
			eq(t, "lpm "+fmt.Sprint(k), v, wantLpm[fmt.Sprint(k)])
		}
		// a longest-prefix lookup, as the kernel does it
		v, ok, err := lpm.Get(maps.MpLpmKey{Prefixlen: 32, Addr: [4]uint8{10, 1, 2, 200}})
		must(t, err)
		eq(t, "longest prefix present", ok, true)
		eq(t, "longest prefix", v, 3)

		// deleting the entry just yielded is safe in both modes
		for _, opts := range []maps_iter_options{{}, {NoBatch: true}} {
			for i := 0; i < n; i++ {
				k := maps.MpFlowKey{Addr: uint32(i), Port: uint16(i % 65536), Proto: 17}
				must(t, flows.Set(k, want[k]))
			}
			it := flows.IterateWith(opts)
			deleted := 0
			for it.Next() {
				ok, err := flows.Delete(it.Key())
				must(t, err)
				if ok {
					deleted++
				}
			}
			must(t, it.Err())
			eq(t, fmt.Sprintf("deleted (%+v)", opts), deleted, n)
			keys, err := flows.Keys()
			must(t, err)
			eq(t, fmt.Sprintf("left (%+v)", opts), len(keys), 0)
		}
		it := lpm.Iterate()
		for it.Next() {
			_, err := lpm.Delete(it.Key())
			must(t, err)
		}
		must(t, it.Err())
		left, err := lpm.Keys()
		must(t, err)
		eq(t, "lpm left", len(left), 0)
	})

	t.Run("sizes", func(t *testing.T) {
		x := fresh(t)
		want := get(E, "sizes", "maps").(map[string]any)
		raws := map[string]func() (mapInfo, error){
			"mp_flows":      infoOf(x.Maps.MpFlows.Info),
			"mp_small":      infoOf(x.Maps.MpSmall.Info),
			"mp_array":      infoOf(x.Maps.MpArray.Info),
			"mp_pcpu_array": infoOf(x.Maps.MpPcpuArray.Info),
			"mp_pcpu_hash":  infoOf(x.Maps.MpPcpuHash.Info),
			"mp_lru":        infoOf(x.Maps.MpLru.Info),
			"mp_lpm":        infoOf(x.Maps.MpLpm.Info),
		}
		for _, name := range keysOf(want) {
			info, err := raws[name]()
			must(t, err)
			w := want[name]
			eq(t, name+" key size", info.KeySize, int(jint(t, get(w, "keySize"))))
			eq(t, name+" value size", info.ValueSize, int(jint(t, get(w, "valueSize"))))
			eq(t, name+" max entries", info.MaxEntries, int(jint(t, get(w, "maxEntries"))))
		}
		eq(t, "struct mp_flow_key", maps.MpFlowKeyLayout.Size, int(jint(t, get(E, "sizes", "struct mp_flow_key"))))
		eq(t, "struct mp_flow_stats", maps.MpFlowStatsLayout.Size, int(jint(t, get(E, "sizes", "struct mp_flow_stats"))))
		eq(t, "struct mp_cpu_tally", maps.MpCpuTallyLayout.Size, int(jint(t, get(E, "sizes", "struct mp_cpu_tally"))))
		eq(t, "struct mp_lpm_key", maps.MpLpmKeyLayout.Size, int(jint(t, get(E, "sizes", "struct mp_lpm_key"))))
		// the map's key and value sizes equal the generated types' (MarshalBinary)
		kb, _ := (&maps.MpFlowKey{}).MarshalBinary()
		vb, _ := (&maps.MpFlowStats{}).MarshalBinary()
		eq(t, "MpFlowKey bytes", len(kb), 8)
		eq(t, "MpFlowStats bytes", len(vb), 32)
		eq(t, "per-CPU values", x.Maps.MpPcpuHash.CPUs(), possibleCPUs(t))
	})
}
