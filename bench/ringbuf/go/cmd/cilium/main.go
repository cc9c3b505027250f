// The peer for Go: the same ring buffer read with cilium/ebpf's ringbuf
// reader (Debian's golang-github-cilium-ebpf-dev, 0.9.1), the object loaded
// by cilium/ebpf itself from the same bpf.o, used as its documentation shows:
// ReadInto with one reused Record, blocking in the reader between records.
// See bench/ringbuf.mjs.
//
//	go-cilium BPF_O PRODUCER stream|burst N BATCH
package main

import (
	"encoding/binary"
	"errors"
	"os"

	"coolbpf.local/bench-ringbuf/harness"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
)

const consumer = "go-cilium"

func main() {
	object := os.Args[1]
	os.Args = append(os.Args[:1], os.Args[2:]...)
	a := harness.Parse(consumer)
	p := harness.StartProducer(a.Producer, a.N, a.Batch)

	spec, err := ebpf.LoadCollectionSpec(object)
	if err != nil {
		harness.Die("loading %s: %v", object, err)
	}
	if err := spec.RewriteConstants(map[string]interface{}{"producer_tgid": uint32(p.Pid)}); err != nil {
		harness.Die("setting producer_tgid: %v", err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		harness.Die("loading the collection: %v", err)
	}
	defer coll.Close()
	tp, err := link.Tracepoint("syscalls", "sys_enter_getppid", coll.Programs["on_getppid"], nil)
	if err != nil {
		harness.Die("attaching: %v", err)
	}
	defer tp.Close()
	rd, err := ringbuf.NewReader(coll.Maps["events"])
	if err != nil {
		harness.Die("opening the reader: %v", err)
	}
	bss := coll.Maps[".bss"]
	buf := make([]byte, bss.ValueSize())
	counters := func() (uint64, uint64) {
		if err := bss.Lookup(uint32(0), &buf); err != nil {
			harness.Die("reading .bss: %v", err)
		}
		return binary.LittleEndian.Uint64(buf), binary.LittleEndian.Uint64(buf[8:])
	}
	produced := func() uint64 { v, _ := counters(); return v }

	var t harness.Tally
	var w harness.Window
	var rec ringbuf.Record
	if !a.Burst {
		complete := make(chan struct{})
		p.Watch(counters, complete, func() { _ = rd.Close() })
		t.ReadsUnseen = true
		w.Resume()
		p.Go()
		for t.Delivered < a.N {
			if err := rd.ReadInto(&rec); err != nil {
				if errors.Is(err, ringbuf.ErrClosed) {
					break
				}
				harness.Die("read: %v", err)
			}
			t.Add(binary.LittleEndian.Uint64(rec.RawSample))
		}
		w.Pause()
		close(complete)
	} else {
		// ReadInto always waits for a record: read exactly the ones there
		harness.Burst(a, p, &w, &t, produced, func(t *harness.Tally, want uint64) uint64 {
			got := uint64(0)
			for ; t.Delivered < want; got++ {
				if err := rd.ReadInto(&rec); err != nil {
					harness.Die("read: %v", err)
				}
				t.Add(binary.LittleEndian.Uint64(rec.RawSample))
			}
			return got
		})
	}
	prod, drop := counters()
	_ = rd.Close()
	harness.Report(consumer, a, p, &t, &w, prod, drop)
}
