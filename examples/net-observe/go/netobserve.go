// Package netobserve is net-observe as a Go library: it attaches the BPF
// program of ../net_observe.bpf.c (generated package coolbpf.local/net_observe)
// and keeps per-connection stats from its events and its conns map.
//
//	obs, err := netobserve.Observe(netobserve.Options{Pid: 1234})
//	if err != nil { … }
//	defer obs.Close()                 // detaches: nothing stays loaded
//	for _, c := range obs.Connections() { … }
package netobserve

import (
	"context"
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	no "coolbpf.local/net_observe"
	"coolbpf.local/net_observe/coolbpf"
)

const evClose = 3

// LatSlots is the number of slots of a connection's latency histogram
// (Conn.LatencyHist).
const LatSlots = 104

var protocols = []string{"unknown", "http", "redis"}
var roles = []string{"unknown", "server", "client"}

// Options choose what is watched: 0 means every process / port.
type Options struct {
	Pid  uint32
	Port uint16
}

// ConnectionStats is one connection as net-observe saw it.
type ConnectionStats struct {
	Pid        uint32   `json:"pid"`
	Comm       string   `json:"comm"`
	Fd         uint32   `json:"fd"`
	Role       string   `json:"role"`
	Protocol   string   `json:"protocol"`
	LocalAddr  string   `json:"local_addr"`
	LocalPort  uint16   `json:"local_port"`
	RemoteAddr string   `json:"remote_addr"`
	RemotePort uint16   `json:"remote_port"`
	BytesIn    uint64   `json:"bytes_in"`
	BytesOut   uint64   `json:"bytes_out"`
	CallsIn    uint64   `json:"calls_in"`
	CallsOut   uint64   `json:"calls_out"`
	Requests   uint64   `json:"requests"`
	P50Ms      *float64 `json:"p50_ms"`
	P99Ms      *float64 `json:"p99_ms"`
	Closed     bool     `json:"closed"`
}

type connKey struct {
	pid, fd      uint32
	sport, dport uint16
}

type tracked struct {
	c      no.Conn
	closed bool
}

// merge keeps the larger of what we have and what we read (counters only grow).
func (t *tracked) merge(c no.Conn) {
	if c.BytesIn+c.BytesOut+c.Requests >= t.c.BytesIn+t.c.BytesOut+t.c.Requests {
		t.c = c
	}
}

// Observer is net-observe attached.
type Observer struct {
	skel   *no.NetObserve
	mu     sync.Mutex
	conns  map[connKey]*tracked
	order  []connKey
	cancel context.CancelFunc
	done   chan error
	closed bool
}

// Observe loads and attaches net-observe.
func Observe(opts Options) (*Observer, error) {
	skel, err := no.Init(&no.Options{Rodata: func(r *no.Rodata) error {
		r.TargetPid = opts.Pid
		r.TargetPort = opts.Port
		return nil
	}})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	o := &Observer{skel: skel, conns: map[connKey]*tracked{}, cancel: cancel, done: make(chan error, 1)}
	// each open/close wakes the reader (BPF submits with the default
	// wakeup), so it just waits: nothing needs polling
	go func() {
		o.done <- skel.Maps.Events.Consume(ctx, func(ev no.Event, _ int) error {
			o.onEvent(ev)
			return nil
		})
	}()
	return o, nil
}

// drain takes the records waiting, without waiting for more.
func drain[T any](events *coolbpf.Events[T], fn func(T)) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		rec, err := events.Read(ctx)
		cancel()
		if err != nil {
			return
		}
		fn(rec.Value)
	}
}

func (o *Observer) track(c no.Conn) *tracked {
	k := connKey{c.Pid, c.Fd, c.Sport, c.Dport}
	t, ok := o.conns[k]
	if !ok {
		t = &tracked{c: c}
		o.conns[k] = t
		o.order = append(o.order, k)
	}
	return t
}

func (o *Observer) onEvent(ev no.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.track(ev.Conn)
	if t.closed {
		return
	}
	t.merge(ev.Conn)
	if ev.Kind == evClose {
		t.c = ev.Conn
		t.closed = true
	}
}

func addr(a [16]uint8, family uint16) string {
	if family == 2 {
		return net.IP(a[:4]).String()
	}
	ip := net.IP(a[:])
	if v4 := ip.To4(); v4 != nil { // IPv4-mapped (a dual-stack socket talking IPv4)
		return "::ffff:" + v4.String()
	}
	return ip.String()
}

// SlotBounds are the latencies slot s (0 <= s < LatSlots) of a histogram
// counts, in units of 1024 ns: [lo, hi). They mirror lat_slot() of the BPF
// side, which picks a slot from the leading bits so that it costs a few
// shifts: u itself below 4, then 4 slots per power of two. The last slot
// also counts everything above hi.
func SlotBounds(s int) (lo, hi uint64) {
	if s < 4 {
		return uint64(s), uint64(s) + 1
	}
	e, sub := s/4+1, uint64(s%4)
	return (4 + sub) << (e - 2), (5 + sub) << (e - 2)
}

// HistPercentileMs is the nearest-rank percentile p (0.5: the median) of a
// latency histogram, in ms; ok is false when it counts nothing. BPF counts
// latencies in the conns map instead of sending each one (a record per
// request cost the watched server more than the rest of the tracing), so a
// percentile is only known to its slot: the slot's midpoint stands for it,
// within 1/8 of the value (a slot spans at most a quarter of its lower bound).
func HistPercentileMs(hist *[LatSlots]uint32, p float64) (ms float64, ok bool) {
	var total uint64
	for _, n := range hist {
		total += uint64(n)
	}
	if total == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(p * float64(total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	s := LatSlots - 1 // not reached: rank <= total when p <= 1
	for i, n := range hist {
		if seen += uint64(n); seen >= rank {
			s = i
			break
		}
	}
	lo, hi := SlotBounds(s)
	return (float64(lo) + float64(hi)) / 2 * 1024 / 1e6, true
}

// percentileMs is HistPercentileMs for JSON: nil when there is none.
func percentileMs(hist *[LatSlots]uint32, p float64) *float64 {
	v, ok := HistPercentileMs(hist, p)
	if !ok {
		return nil
	}
	return &v
}

func name(names []string, i uint8) string {
	if int(i) < len(names) {
		return names[i]
	}
	return "unknown"
}

func (t *tracked) stats() ConnectionStats {
	c := t.c
	return ConnectionStats{
		Pid: c.Pid, Comm: c.Comm.String(), Fd: c.Fd,
		Role: name(roles, c.Role), Protocol: name(protocols, c.Proto),
		LocalAddr: addr(c.Saddr, c.Family), LocalPort: c.Sport,
		RemoteAddr: addr(c.Daddr, c.Family), RemotePort: c.Dport,
		BytesIn: c.BytesIn, BytesOut: c.BytesOut, CallsIn: c.CallsIn, CallsOut: c.CallsOut,
		Requests: c.Requests, P50Ms: percentileMs(&c.LatencyHist, 0.5), P99Ms: percentileMs(&c.LatencyHist, 0.99),
		Closed: t.closed,
	}
}

// refresh reads the open connections' counters from the map (o.mu held).
func (o *Observer) refresh() error {
	it := o.skel.Maps.Conns.Iterate()
	for it.Next() {
		c := it.Value()
		if c.Ignored != 0 {
			continue
		}
		if t := o.track(c); !t.closed {
			t.merge(c)
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("reading conns: %w", err)
	}
	return nil
}

// Connections are every connection seen; open ones refreshed from the map
// (after Close: as they were when it detached).
func (o *Observer) Connections() ([]ConnectionStats, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		if err := o.refresh(); err != nil {
			return nil, err
		}
	}
	out := make([]ConnectionStats, 0, len(o.order))
	for _, k := range o.order {
		out = append(out, o.conns[k].stats())
	}
	return out, nil
}

// Dropped is the number of ring buffer records BPF could not send (full).
func (o *Observer) Dropped() (uint64, error) {
	return o.skel.Bss.Dropped.Get()
}

// Close takes the events still waiting and the counters in the map, then
// detaches and unloads; idempotent.
func (o *Observer) Close() error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.mu.Unlock()
	o.cancel()
	err := <-o.done
	drain(o.skel.Maps.Events, o.onEvent)
	o.mu.Lock()
	if rerr := o.refresh(); err == nil {
		err = rerr
	}
	o.closed = true
	o.mu.Unlock()
	if cerr := o.skel.Close(); err == nil {
		err = cerr
	}
	return err
}
