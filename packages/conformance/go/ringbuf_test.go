// ringbuf: typed events through a BPF ring buffer: exact contents, order,
// reading ended by a context or by Close, the callback form, the channel
// form, stats, bulk delivery, and a process that ends cleanly afterwards.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"coolbpf.local/ringbuf"
	rbrt "coolbpf.local/ringbuf/coolbpf"
)

func rbInit(t *testing.T, readers map[string]rbrt.EventsOptions) *ringbuf.Ringbuf {
	t.Helper()
	pid := uint32(os.Getpid())
	x, err := ringbuf.Init(&ringbuf.Options{Readers: readers, Rodata: func(r *ringbuf.Rodata) error { r.TargetTgid = pid; return nil }})
	must(t, err)
	return x
}

// onSomeCPU runs f on the main thread pinned to one CPU when it can (so the
// events' cpu field is known), else where it runs; the CPU, or -1.
func onSomeCPU(t *testing.T, f func()) int {
	cpus := allowedCPUs()
	if len(cpus) == 0 {
		onMain(f)
		return -1
	}
	onCPU(t, cpus[0], f)
	return cpus[0]
}

func TestRingbuf(t *testing.T) {
	skipWithoutKernel(t)
	E := expected(t, "ringbuf")
	ls := layoutsOf(ringbuf.Layouts())
	events := jlist(t, E["events"])

	t.Run("contents", func(t *testing.T) {
		x := rbInit(t, nil)
		defer x.Close()
		cpu := onSomeCPU(t, func() { triggerHere(len(events)) })
		// the iterator form: Read until the test cancels its context
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var got []ringbuf.RbEvent
		for {
			r, err := x.Maps.RbEvents.Read(ctx)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Read: %v", err)
				}
				break
			}
			eq(t, "a ring buffer's cpu argument", r.CPU, 0)
			got = append(got, r.Value)
			if len(got) == len(events) {
				cancel()
			}
		}
		eq(t, "events", len(got), len(events))
		for i, e := range events {
			c := cpu
			if c < 0 {
				c = int(got[i].Cpu)
			}
			sameValue(t, fmt.Sprintf("event %d", i), ls, got[i], fill(t, e.(map[string]any), c))
		}
		eq(t, "dropped", lcGet(t, "dropped", x.Bss.Dropped.Get), 0)
	})

	t.Run("waiting", func(t *testing.T) {
		c := E.Case(t, "waiting")
		n := int(jint(t, c["triggers"]))
		x := rbInit(t, nil)
		defer x.Close()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			time.Sleep(20 * time.Millisecond)
			trigger(n)
		}()
		// the channel form: Subscribe until the test cancels
		sub := x.Maps.RbEvents.Subscribe(ctx, 0)
		var seqs []uint64
		for r := range sub.C {
			seqs = append(seqs, r.Value.Seq)
			if len(seqs) == n {
				cancel()
			}
		}
		must(t, sub.Err())
		eq(t, "seqs", fmt.Sprint(seqs), "[0 1 2]")
	})

	t.Run("abort-idle", func(t *testing.T) {
		c := E.Case(t, "abort-idle")
		timeout := time.Duration(jint(t, c["timeoutMs"])) * time.Millisecond
		x := rbInit(t, nil)
		defer x.Close()
		for _, form := range []string{"Read", "Consume", "Subscribe"} {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			t0 := time.Now()
			got := 0
			var err error
			switch form {
			case "Read":
				_, err = x.Maps.RbEvents.Read(ctx)
				if errors.Is(err, context.DeadlineExceeded) {
					err = nil
				} else if err == nil {
					got++
				}
			case "Consume":
				err = x.Maps.RbEvents.Consume(ctx, func(ringbuf.RbEvent, int) error { got++; return nil })
			case "Subscribe":
				sub := x.Maps.RbEvents.Subscribe(ctx, 1)
				for range sub.C {
					got++
				}
				err = sub.Err()
			}
			cancel()
			elapsed := time.Since(t0)
			must(t, err)
			eq(t, form+": events", got, 0)
			if elapsed < timeout-5*time.Millisecond || elapsed > 5*time.Second {
				t.Errorf("%s: ended after %v, the context's timeout is %v", form, elapsed, timeout)
			}
		}
	})

	t.Run("destroy-ends", func(t *testing.T) {
		x := rbInit(t, nil)
		go func() {
			time.Sleep(30 * time.Millisecond)
			_ = x.Close()
		}()
		got := 0
		err := x.Maps.RbEvents.Consume(context.Background(), func(ringbuf.RbEvent, int) error { got++; return nil })
		must(t, err)
		eq(t, "events", got, 0)
		eq(t, "state", x.Object().State().String(), "destroyed")
		// the other forms end too, and say why
		_, err = x.Maps.RbEvents.Read(context.Background())
		wantCode(t, "Read after Close", err, "EDESTROYED")
		sub := x.Maps.RbEvents.Subscribe(context.Background(), 0)
		for range sub.C {
			got++
		}
		must(t, sub.Err())
		eq(t, "events", got, 0)
	})

	t.Run("subscribe", func(t *testing.T) {
		c := E.Case(t, "subscribe")
		a, b := int(jint(t, get(c, "triggers", "a"))), int(jint(t, get(c, "triggers", "b")))
		x := rbInit(t, nil)
		defer x.Close()
		ev := x.Maps.RbEvents
		var mu sync.Mutex
		var seen [][2]uint64
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() {
			done <- ev.Consume(ctx, func(e ringbuf.RbEvent, cpu int) error {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, [2]uint64{e.Seq, uint64(cpu)})
				return nil
			})
		}()
		trigger(a)
		until(t, "the subscribed events", 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) >= a })
		stop()
		must(t, <-done)
		trigger(b)
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		eq(t, "callbacks", len(seen), int(jint(t, get(c, "expect", "callbacks"))))
		for i, s := range seen {
			eq(t, "seq", s[0], uint64(i))
			eq(t, "cpu argument", s[1], juint(t, get(c, "expect", "cpuArgument")))
		}
		mu.Unlock()
		later, err := ev.Drain(0)
		must(t, err)
		eq(t, "drained", len(later), b)
		for i, r := range later {
			eq(t, "drained seq", r.Value.Seq, uint64(a+i))
		}
		records, lost, err := ev.Stats()
		must(t, err)
		eq(t, "stats.records", records, juint(t, get(c, "expect", "stats.records")))
		eq(t, "stats.lost", lost, juint(t, get(c, "expect", "stats.lost")))
	})

	t.Run("bulk", func(t *testing.T) {
		c := E.Case(t, "bulk")
		n := int(jint(t, c["triggers"]))
		x := rbInit(t, map[string]rbrt.EventsOptions{"rb_events": {BatchBytes: 16 * 1024}})
		defer x.Close()
		trigger(n)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		next, outOfOrder := uint64(0), 0
		must(t, x.Maps.RbEvents.Consume(ctx, func(e ringbuf.RbEvent, _ int) error {
			if e.Seq != next {
				outOfOrder++
			}
			next = e.Seq + 1
			if next == uint64(n) {
				cancel()
			}
			return nil
		}))
		eq(t, "out of order", outOfOrder, 0)
		eq(t, "last seq + 1", next, uint64(n))
		eq(t, "dropped", lcGet(t, "dropped", x.Bss.Dropped.Get), 0)
		records, _, err := x.Maps.RbEvents.Stats()
		must(t, err)
		eq(t, "stats.records", records, juint(t, get(c, "expect", "stats.records")))
	})

	t.Run("exit", func(t *testing.T) {
		exitCase(t, E.Case(t, "exit"), "ringbuf")
	})
}

func init() {
	children["ringbuf"] = func() int {
		x, err := ringbuf.Init(&ringbuf.Options{Rodata: func(r *ringbuf.Rodata) error { r.TargetTgid = uint32(os.Getpid()); return nil }})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return childReads(
			func(n int) { triggerHere(n) },
			func(ctx context.Context) (uint64, error) {
				r, err := x.Maps.RbEvents.Read(ctx)
				return r.Value.Seq, err
			},
			func(ctx context.Context, f func(seq uint64)) error {
				return x.Maps.RbEvents.Consume(ctx, func(e ringbuf.RbEvent, _ int) error { f(e.Seq); return nil })
			},
		)
	}
}
