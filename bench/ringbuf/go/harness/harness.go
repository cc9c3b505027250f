// Package harness is what the Go ring buffer consumers share with the C ones
// (bench/ringbuf/common.h) and the Node one: the producer (producer.c's
// program, spawned: Go cannot fork), the measurement window, the tally and the
// result line, so every consumer is measured and checked the same way.
package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// StallAfter: no record for this long while some are missing ends the run (common.h's STALL_MS).
const StallAfter = 10 * time.Second

// Args are a consumer's command line: PRODUCER stream|burst N BATCH.
type Args struct {
	Producer string
	Burst    bool
	N        uint64
	Batch    uint64
}

var name = "consumer"
var producer *exec.Cmd

// Die prints "<consumer>: msg" and exits 1, killing the producer.
func Die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", name, fmt.Sprintf(format, a...))
	if producer != nil && producer.Process != nil {
		_ = producer.Process.Kill()
	}
	os.Exit(1)
}

// Parse reads the command line of consumer `consumer`.
func Parse(consumer string) Args {
	name = consumer
	a := os.Args[1:]
	if len(a) != 4 || (a[1] != "stream" && a[1] != "burst") {
		Die("usage: %s PRODUCER stream|burst N BATCH", consumer)
	}
	num := func(what, s string) uint64 {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			Die("%s: not a number: '%s'", what, s)
		}
		return v
	}
	o := Args{Producer: a[0], Burst: a[1] == "burst", N: num("N", a[2]), Batch: num("BATCH", a[3])}
	if !o.Burst || o.Batch == 0 || o.Batch > o.N {
		o.Batch = o.N
	}
	return o
}

// Producer is the running producer: a go byte per batch on its stdin, a done
// byte per batch on its stdout, then its result line.
type Producer struct {
	Pid  int
	in   io.WriteCloser
	out  *bufio.Reader
	Done chan struct{} // one value per finished batch
	cpu  int64
	exit chan error
}

// StartProducer spawns the producer for n calls in batches of batch.
func StartProducer(path string, n, batch uint64) *Producer {
	cmd := exec.Command(path, strconv.FormatUint(n, 10), strconv.FormatUint(batch, 10))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		Die("producer stdin: %v", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		Die("producer stdout: %v", err)
	}
	if err := cmd.Start(); err != nil {
		Die("spawning %s: %v", path, err)
	}
	producer = cmd
	p := &Producer{Pid: cmd.Process.Pid, in: in, out: bufio.NewReader(out), Done: make(chan struct{}, 1<<20), cpu: -1, exit: make(chan error, 1)}
	go func() {
		for {
			b, err := p.out.ReadByte()
			if err != nil {
				break
			}
			if b == 'd' {
				p.Done <- struct{}{}
				continue
			}
			// '\n', then {"producer_cpu_us":…}
			line, _ := p.out.ReadString('\n')
			var r struct {
				CPU int64 `json:"producer_cpu_us"`
			}
			if json.Unmarshal([]byte(line), &r) == nil {
				p.cpu = r.CPU
			}
		}
		p.exit <- cmd.Wait()
	}()
	return p
}

// Go releases the producer for one batch.
func (p *Producer) Go() {
	if _, err := p.in.Write([]byte{'g'}); err != nil {
		Die("starting the producer: %v", err)
	}
}

// Window sums rusage and clock deltas over Resume .. Pause spans (common.h's struct window).
type Window struct {
	UserUs, SysUs, WallNs int64
	Nvcsw, Nivcsw         int64
	ru0                   syscall.Rusage
	t0                    time.Time
}

func rusage() syscall.Rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		Die("getrusage: %v", err)
	}
	return ru
}

func tvUs(tv syscall.Timeval) int64 { return tv.Sec*1000000 + tv.Usec }

// Resume starts a span.
func (w *Window) Resume() {
	w.ru0 = rusage()
	w.t0 = time.Now()
}

// Pause ends a span.
func (w *Window) Pause() {
	wall := time.Since(w.t0)
	ru := rusage()
	w.WallNs += int64(wall)
	w.UserUs += tvUs(ru.Utime) - tvUs(w.ru0.Utime)
	w.SysUs += tvUs(ru.Stime) - tvUs(w.ru0.Stime)
	w.Nvcsw += ru.Nvcsw - w.ru0.Nvcsw
	w.Nivcsw += ru.Nivcsw - w.ru0.Nivcsw
}

// Tally checks every record (common.h's tally()).
type Tally struct {
	Delivered, SeqSum, NextSeq, OutOfOrder, BadSize uint64
	Reads, EmptyReads                               uint64
	// ReadsUnseen: the API reads out of sight (Consume, ReadInto): no count
	ReadsUnseen bool
}

// Add counts one record by its seq.
func (t *Tally) Add(seq uint64) {
	t.SeqSum += seq
	if seq != t.NextSeq {
		t.OutOfOrder++
	}
	t.NextSeq = seq + 1
	t.Delivered++
}

// Watch ends a stream run that cannot complete: once the producer is done,
// stop is called when the BPF program dropped records (they never come; a
// second of grace for those in flight) or nothing completes the run within
// StallAfter. complete is closed by the consumer when it has all n.
func (p *Producer) Watch(counters func() (produced, dropped uint64), complete <-chan struct{}, stop func()) {
	go func() {
		select {
		case <-p.Done:
		case <-complete:
			return
		}
		deadline := time.After(StallAfter)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-complete:
				return
			case <-deadline:
				stop()
				return
			case <-tick.C:
				if _, dropped := counters(); dropped > 0 {
					time.Sleep(time.Second)
					stop()
					return
				}
			}
		}
	}()
}

// Burst runs the burst mode (common.h's run()): the producer fills the ring
// with a batch while the consumer waits, then drain reads what is there
// without waiting (returning how many records it read, 0 when none) until
// the batch's records are in; only the drains are measured.
func Burst(a Args, p *Producer, w *Window, t *Tally, produced func() uint64, drain func(t *Tally, want uint64) uint64) {
	for done := uint64(0); done < a.N; {
		b := a.Batch
		if a.N-done < b {
			b = a.N - done
		}
		p.Go()
		<-p.Done
		want := produced()
		w.Resume()
		for t.Delivered < want {
			got := drain(t, want)
			t.Reads++
			if got == 0 {
				t.EmptyReads++
				break
			}
		}
		w.Pause()
		done += b
	}
}

// Report reaps the producer, checks the run and prints the result line
// (common.h's report()); exits 1 when the run is not clean.
func Report(consumer string, a Args, p *Producer, t *Tally, w *Window, produced, dropped uint64) {
	if err := <-p.exit; err != nil {
		Die("the producer failed: %v", err)
	}
	producer = nil
	n := a.N
	lost := dropped
	if n > t.Delivered {
		lost += n - t.Delivered
	}
	var want uint64
	if n%2 == 1 {
		want = n * ((n - 1) / 2)
	} else {
		want = (n / 2) * (n - 1)
	}
	ok := lost == 0 && t.Delivered == n && produced == n && t.SeqSum == want && t.OutOfOrder == 0 && t.BadSize == 0
	mode := "stream"
	if a.Burst {
		mode = "burst"
	}
	res := map[string]any{
		"consumer": consumer, "mode": mode, "n": n, "produced": produced, "dropped": dropped,
		"delivered": t.Delivered, "lost": lost, "seq_sum_ok": t.SeqSum == want, "out_of_order": t.OutOfOrder,
		"bad_size": t.BadSize, "user_us": w.UserUs, "sys_us": w.SysUs, "wall_us": w.WallNs / 1000,
		"nvcsw": w.Nvcsw, "nivcsw": w.Nivcsw, "reads": t.Reads, "empty_reads": t.EmptyReads,
		"producer_cpu_us": p.cpu,
	}
	if t.ReadsUnseen {
		res["reads"], res["empty_reads"] = nil, nil
	}
	line, _ := json.Marshal(res)
	fmt.Println(string(line))
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: run not clean: %d lost, %d of %d delivered (%d produced), seq sum ok %v, %d out of order, %d of a wrong size\n",
			consumer, lost, t.Delivered, n, produced, t.SeqSum == want, t.OutOfOrder, t.BadSize)
		os.Exit(1)
	}
}
