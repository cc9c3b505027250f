package netobserve

import (
	"math"
	"math/bits"
	"testing"
)

// latSlot is lat_slot() of net_observe.bpf.c, the reference for SlotBounds.
func latSlot(u uint64) int {
	if u < 4 {
		return int(u)
	}
	if u >= 7<<24 {
		return LatSlots - 1
	}
	e := bits.Len64(u) - 1 // floor(log2 u)
	return 4*(e-1) + int((u>>(e-2))&3)
}

func TestHistPercentileMs(t *testing.T) {
	hist := func(slots map[int]uint32) *[LatSlots]uint32 {
		var h [LatSlots]uint32
		for s, n := range slots {
			h[s] = n
		}
		return &h
	}
	cases := []struct {
		name     string
		hist     *[LatSlots]uint32
		p50, p99 float64 // NaN: none
	}{
		{"empty", hist(nil), math.NaN(), math.NaN()},
		{"one slot", hist(map[int]uint32{10: 100}), 0.013312, 0.013312},
		{"tail", hist(map[int]uint32{2: 98, 40: 2}), 0.00256, 2.359296},
		{"last slot", hist(map[int]uint32{103: 1}), 128849.01888, 128849.01888},
	}
	for _, c := range cases {
		for _, q := range []struct {
			p, want float64
		}{{0.5, c.p50}, {0.99, c.p99}} {
			got, ok := HistPercentileMs(c.hist, q.p)
			if math.IsNaN(q.want) {
				if ok {
					t.Errorf("%s: p%g = %v, want none", c.name, q.p*100, got)
				}
				if percentileMs(c.hist, q.p) != nil {
					t.Errorf("%s: p%g: percentileMs not nil", c.name, q.p*100)
				}
				continue
			}
			if !ok || math.Abs(got-q.want) > 1e-9*q.want {
				t.Errorf("%s: p%g = %v, %v; want %v", c.name, q.p*100, got, ok, q.want)
			}
			if v := percentileMs(c.hist, q.p); v == nil || *v != got {
				t.Errorf("%s: p%g: percentileMs = %v, want %v", c.name, q.p*100, v, got)
			}
		}
	}
}

func TestSlotBoundsMatchBPF(t *testing.T) {
	for u := uint64(0); u <= 1<<20; u++ {
		s := latSlot(u)
		if lo, hi := SlotBounds(s); u < lo || u >= hi {
			t.Fatalf("u=%d: BPF slot %d, whose bounds are [%d, %d)", u, s, lo, hi)
		}
	}
	// the slots tile [0, 8<<24) without gaps, and the last one is BPF's catch-all
	var next uint64
	for s := 0; s < LatSlots; s++ {
		lo, hi := SlotBounds(s)
		if lo != next || hi <= lo {
			t.Fatalf("slot %d = [%d, %d), want it to start at %d", s, lo, hi, next)
		}
		if latSlot(lo) != s || latSlot(hi-1) != s {
			t.Fatalf("slot %d = [%d, %d): BPF puts its ends in %d and %d", s, lo, hi, latSlot(lo), latSlot(hi-1))
		}
		next = hi
	}
	if lo, _ := SlotBounds(LatSlots - 1); lo != 7<<24 || latSlot(1<<40) != LatSlots-1 {
		t.Fatalf("last slot starts at %d", lo)
	}
}
