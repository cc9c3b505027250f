// perfbuf: the ringbuf scenario's events through a perf event array, with
// the CPU each event came from, and no sample lost.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"coolbpf.local/perfbuf"
	pbrt "coolbpf.local/perfbuf/coolbpf"
)

func pbOptions(readers map[string]pbrt.EventsOptions) *perfbuf.Options {
	pid := uint32(os.Getpid())
	return &perfbuf.Options{Readers: readers, Rodata: func(r *perfbuf.Rodata) error { r.TargetTgid = pid; return nil }}
}

// collect reads with the callback form until n events came (or fails after timeout).
func collect(t *testing.T, ev *pbrt.Events[perfbuf.PbEvent], n int, timeout time.Duration) []pbrt.Record[perfbuf.PbEvent] {
	t.Helper()
	var mu sync.Mutex
	var got []pbrt.Record[perfbuf.PbEvent]
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := ev.Consume(ctx, func(e perfbuf.PbEvent, cpu int) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, pbrt.Record[perfbuf.PbEvent]{Value: e, CPU: cpu})
		if len(got) >= n {
			cancel()
		}
		return nil
	})
	must(t, err)
	if len(got) < n {
		t.Fatalf("%d events of %d by the timeout", len(got), n)
	}
	return got
}

func TestPerfbuf(t *testing.T) {
	skipWithoutKernel(t)
	E := expected(t, "perfbuf")
	ls := layoutsOf(perfbuf.Layouts())
	events := jlist(t, E["events"])
	cpus := allowedCPUs()
	if len(cpus) == 0 {
		t.Skip("cannot read this process's CPU affinity (the tests pin the triggering thread to CPUs)")
	}

	// The reader is opened by Load (Init), before any event: nothing BPF sends is dropped for want of one.
	t.Run("before-first-read", func(t *testing.T) {
		n := int(jint(t, E.Case(t, "before-first-read")["triggers"]))
		x, err := perfbuf.Init(pbOptions(nil))
		must(t, err)
		defer x.Close()
		trigger(n)
		eq(t, "sent", lcGet(t, "sent", x.Bss.Sent.Get), uint64(n))
		eq(t, "dropped", lcGet(t, "dropped", x.Bss.Dropped.Get), 0)
		got := collect(t, x.Maps.PbEvents, n, time.Second)
		for i, r := range got {
			eq(t, "seq", r.Value.Seq, uint64(i))
		}
	})

	t.Run("contents", func(t *testing.T) {
		x, err := perfbuf.Init(pbOptions(nil))
		must(t, err)
		defer x.Close()
		cpu := cpus[0]
		onCPU(t, cpu, func() { triggerHere(len(events)) })
		got := collect(t, x.Maps.PbEvents, len(events), 5*time.Second)
		eq(t, "events", len(got), len(events))
		for i, e := range events {
			sameValue(t, fmt.Sprintf("event %d", i), ls, got[i].Value, fill(t, e.(map[string]any), cpu))
			eq(t, "the reader's cpu", got[i].CPU, cpu)
		}
		records, lost, err := x.Maps.PbEvents.Stats()
		must(t, err)
		eq(t, "stats.records", records, uint64(len(events)))
		eq(t, "stats.lost", lost, 0)
	})

	t.Run("two-cpus", func(t *testing.T) {
		if len(cpus) < 2 {
			t.Skipf("events from two CPUs: this process may run on %d CPU only", len(cpus))
		}
		c := E.Case(t, "two-cpus")
		a, b := int(jint(t, get(c, "triggers", "a"))), int(jint(t, get(c, "triggers", "b")))
		x, err := perfbuf.Init(pbOptions(nil))
		must(t, err)
		defer x.Close()
		onCPU(t, cpus[0], func() { triggerHere(a) })
		onCPU(t, cpus[1], func() { triggerHere(b) })
		got := collect(t, x.Maps.PbEvents, a+b, 5*time.Second)
		on := map[int][]uint64{}
		for _, r := range got {
			eq(t, fmt.Sprintf("event %d: cpu field", r.Value.Seq), int(r.Value.Cpu), r.CPU)
			on[r.CPU] = append(on[r.CPU], r.Value.Seq)
		}
		want := func(from, n int) string {
			s := make([]uint64, n)
			for i := range s {
				s[i] = uint64(from + i)
			}
			return fmt.Sprint(s)
		}
		eq(t, "CPU a", fmt.Sprint(on[cpus[0]]), want(0, a))
		eq(t, "CPU b", fmt.Sprint(on[cpus[1]]), want(a, b))
	})

	t.Run("iterate", func(t *testing.T) {
		n := int(jint(t, E.Case(t, "iterate")["triggers"]))
		x, err := perfbuf.Init(pbOptions(nil))
		must(t, err)
		defer x.Close()
		trigger(n)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var seqs []uint64
		for {
			r, err := x.Maps.PbEvents.Read(ctx)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					t.Fatal(err)
				}
				break
			}
			seqs = append(seqs, r.Value.Seq)
			if len(seqs) == n {
				cancel()
			}
		}
		eq(t, "seqs", fmt.Sprint(seqs), "[0 1 2]")
	})

	t.Run("lost", func(t *testing.T) {
		c := E.Case(t, "lost")
		n := int(jint(t, c["triggers"]))
		x, err := perfbuf.Init(pbOptions(nil))
		must(t, err)
		defer x.Close()
		onCPU(t, cpus[0], func() { triggerHere(n) })
		got := collect(t, x.Maps.PbEvents, n, 5*time.Second)
		for i, r := range got {
			if r.Value.Seq != uint64(i) {
				t.Fatalf("event %d has seq %d", i, r.Value.Seq)
			}
		}
		records, lost, err := x.Maps.PbEvents.Stats()
		must(t, err)
		eq(t, "stats.records", records, juint(t, get(c, "expect", "stats.records")))
		eq(t, "stats.lost", lost, juint(t, get(c, "expect", "stats.lost")))
		eq(t, "dropped", lcGet(t, "dropped", x.Bss.Dropped.Get), 0)
	})

	t.Run("buffer-pages", func(t *testing.T) {
		c := E.Case(t, "buffer-pages")
		n := int(jint(t, c["triggers"]))
		pages, bad := int(jint(t, c["pages"])), int(jint(t, c["badPages"]))
		x, err := perfbuf.Init(pbOptions(map[string]pbrt.EventsOptions{"pb_events": {PerfPages: pages}}))
		must(t, err)
		defer x.Close()
		onCPU(t, cpus[0], func() { triggerHere(n) })
		dropped := lcGet(t, "dropped", x.Bss.Dropped.Get)
		if dropped == 0 {
			t.Errorf("nothing dropped with %d page(s) per CPU", pages)
		}
		got, err := x.Maps.PbEvents.Drain(0)
		must(t, err)
		for {
			more, err := x.Maps.PbEvents.Drain(0)
			must(t, err)
			if len(more) == 0 {
				break
			}
			got = append(got, more...)
		}
		for i, r := range got {
			if r.Value.Seq != uint64(i) {
				t.Fatalf("event %d has seq %d: a gap", i, r.Value.Seq)
			}
		}
		eq(t, "received + dropped", uint64(len(got))+dropped, uint64(n))
		// a size that is not a power of two is refused, naming the map; nothing stays loaded
		fds := bpfFdCounts()
		_, err = perfbuf.Init(pbOptions(map[string]pbrt.EventsOptions{"pb_events": {PerfPages: bad}}))
		if wantCode(t, fmt.Sprintf("%d pages", bad), err, "EINVAL") != nil && !strings.Contains(err.Error(), "pb_events") {
			t.Errorf("%q does not name the map", err)
		}
		eq(t, "BPF fds after the refused Init", fmt.Sprint(bpfFdCounts()), fmt.Sprint(fds))
		// a map name that has no reader is refused too
		_, err = perfbuf.Init(pbOptions(map[string]pbrt.EventsOptions{"pb_nope": {}}))
		wantCode(t, "an unknown reader", err, "EINVAL")
	})

	t.Run("exit", func(t *testing.T) {
		exitCase(t, E.Case(t, "exit"), "perfbuf")
	})
}

func init() {
	children["perfbuf"] = func() int {
		x, err := perfbuf.Init(pbOptions(nil))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return childReads(
			func(n int) { triggerHere(n) },
			func(ctx context.Context) (uint64, error) {
				r, err := x.Maps.PbEvents.Read(ctx)
				return r.Value.Seq, err
			},
			func(ctx context.Context, f func(seq uint64)) error {
				return x.Maps.PbEvents.Consume(ctx, func(e perfbuf.PbEvent, _ int) error { f(e.Seq); return nil })
			},
		)
	}
}
