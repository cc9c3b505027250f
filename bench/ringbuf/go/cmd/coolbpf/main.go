// The ring buffer consumer through the generated Go package (`coolbpf-gen
// build ringbuf.bpf.c --lang go`), used as a Go user would: ringbuf.Init
// with the producer's pid in .rodata, then Maps.Events.Consume under a
// context (stream) or Maps.Events.Drain (burst). See bench/ringbuf.mjs.
//
//	go-coolbpf PRODUCER stream|burst N BATCH
package main

import (
	"context"
	"errors"
	"os"

	"coolbpf.local/bench-ringbuf/harness"
	"coolbpf.local/ringbuf"
)

const consumer = "go"

// errComplete ends Consume once every record is in.
var errComplete = errors.New("complete")

func main() {
	a := harness.Parse(consumer)
	p := harness.StartProducer(a.Producer, a.N, a.Batch)
	x, err := ringbuf.Init(&ringbuf.Options{Rodata: func(r *ringbuf.Rodata) error {
		r.ProducerTgid = uint32(p.Pid)
		return nil
	}})
	if err != nil {
		harness.Die("init: %v", err)
	}
	counters := func() (uint64, uint64) {
		b, err := x.Bss.Read()
		if err != nil {
			harness.Die("reading .bss: %v", err)
		}
		return b.Produced, b.Dropped
	}
	produced := func() uint64 { v, _ := counters(); return v }
	events := x.Maps.Events
	var t harness.Tally
	var w harness.Window

	if !a.Burst {
		ctx, cancel := context.WithCancel(context.Background())
		complete := make(chan struct{})
		p.Watch(counters, complete, cancel)
		t.ReadsUnseen = true
		w.Resume()
		p.Go()
		err := events.Consume(ctx, func(r ringbuf.RecordStruct, _ int) error {
			t.Add(r.Seq)
			if t.Delivered == a.N {
				return errComplete
			}
			return nil
		})
		w.Pause()
		close(complete)
		cancel()
		if err != nil && err != errComplete {
			harness.Die("consume: %v", err)
		}
	} else {
		// Consume until the burst's records are in (they are all waiting: it never sleeps)
		harness.Burst(a, p, &w, &t, produced, func(t *harness.Tally, want uint64) uint64 {
			before := t.Delivered
			err := events.Consume(context.Background(), func(r ringbuf.RecordStruct, _ int) error {
				t.Add(r.Seq)
				if t.Delivered == want {
					return errComplete
				}
				return nil
			})
			if err != nil && err != errComplete {
				harness.Die("consume: %v", err)
			}
			return t.Delivered - before
		})
	}
	prod, drop := counters()
	if err := x.Close(); err != nil {
		harness.Die("close: %v", err)
	}
	harness.Report(consumer, a, p, &t, &w, prod, drop)
	os.Exit(0)
}
