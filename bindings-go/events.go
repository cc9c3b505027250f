package coolbpf

// #include "cbgo.h"
import "C"

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// EventsOptions tune an event reader.
type EventsOptions struct {
	// PerfPages is the size of each CPU's perf buffer in pages (a power of
	// two; 0: 64). Ring buffers ignore it.
	PerfPages int
	// BatchBytes is the size of the buffer one read fills (default 256 KiB);
	// a record larger than it grows it.
	BatchBytes int
}

// RawEvents reads a ring buffer or perf event array: each read copies a
// whole batch of records into one reused buffer in a single call into the
// bpf.so. Records are consumed by whichever read comes first: one consumer
// per reader (reads are serialized). Typed readers (Events) are built on it.
type RawEvents struct {
	o      *Object
	name   string
	e      *C.struct_coolbpf_events // nil once released
	closed atomic.Bool
	// w is where a read waits for records, outside the bpf.so and any lock
	w *waiter

	mu       sync.Mutex // one read at a time; guards buf, pos, end
	buf      []byte
	pos, end int
}

const recordHeader = 8

// BPF_MAP_TYPE_RINGBUF
const mapTypeRingbuf = 27

// Events opens a reader for a ring buffer or perf event array map (after
// load). Close it when done, or let the object's Close do it. For a perf
// event array, samples BPF sends before the reader exists are dropped by the
// kernel: open it before they come (generated code opens every event map's
// reader at load).
func (o *Object) Events(name string, opts *EventsOptions) (*RawEvents, error) {
	var op EventsOptions
	if opts != nil {
		op = *opts
	}
	if op.BatchBytes <= 0 {
		op.BatchBytes = 256 << 10
	}
	if op.BatchBytes < 64 {
		op.BatchBytes = 64
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.require(needLoaded, "Events("+name+")"); err != nil {
		return nil, err
	}
	var e *C.struct_coolbpf_events
	if _, err := result(C.cbgo_events_open(o.lib.lib, o.c, o.cname(name), C.size_t(op.PerfPages), &e)); err != nil {
		return nil, err
	}
	// a ring buffer's own fd is readable when records wait: one epoll set
	// fewer in the way than the reader's (which perf buffers need)
	fd := int(C.cbgo_events_fd(o.lib.lib, e))
	var info C.struct_coolbpf_map_info
	if _, err := result(C.cbgo_map_info(o.lib.lib, o.c, o.cname(name), &info)); err == nil && info._type == mapTypeRingbuf && info.fd >= 0 {
		fd = int(info.fd)
	}
	w, err := newWaiter(fd)
	if err != nil {
		C.cbgo_events_close(o.lib.lib, e)
		errno, _ := err.(syscall.Errno)
		return nil, errnoError(errno, "Events(%s): epoll: %v", name, err)
	}
	r := &RawEvents{o: o, name: name, e: e, w: w, buf: make([]byte, op.BatchBytes)}
	o.readers.Store(r, struct{}{})
	return r, nil
}

// Name is the map's name.
func (r *RawEvents) Name() string { return r.name }

// wake interrupts a read waiting for records, or the next one to wait
// (until unwake).
func (r *RawEvents) wake() { r.w.wake() }

// unwake lets reads wait again.
func (r *RawEvents) unwake() { r.w.unwake() }

// release forgets the C reader (the object's destroy frees it); o.mu is held
// for writing.
func (r *RawEvents) release() {
	if r.e == nil {
		return
	}
	r.e = nil
	// a read waiting (it holds no lock meanwhile) is woken
	r.w.kill()
}

// Close closes the reader; a read waiting for records ends. Records not
// read are left in the map (a ring buffer keeps them for another reader).
func (r *RawEvents) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	o := r.o
	o.mu.RLock()
	alive := r.e != nil
	if alive {
		r.wake()
	}
	o.mu.RUnlock()
	if !alive {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if r.e != nil && o.state != StateDestroyed {
		C.cbgo_events_close(o.lib.lib, r.e)
		r.release()
	}
	o.readers.Delete(r)
	return nil
}

// Stats are the records delivered so far and (perf buffers) the samples the
// kernel dropped.
func (r *RawEvents) Stats() (records, lost uint64, err error) {
	o := r.o
	o.mu.RLock()
	defer o.mu.RUnlock()
	if err := r.usable("Stats()"); err != nil {
		return 0, 0, err
	}
	var rec, l C.uint64_t
	C.cbgo_events_stats(o.lib.lib, r.e, &rec, &l)
	return uint64(rec), uint64(l), nil
}

// usable says why the reader cannot be used (o.mu held).
func (r *RawEvents) usable(what string) *Error {
	// on every read: the message is built only when there is something to
	// say (an allocation per read woke the garbage collector, and with it
	// other threads, once per batch)
	if s := r.o.state; s == StateOpened || s == StateDestroyed {
		return r.o.require(needLoaded, "events '"+r.name+"': "+what)
	}
	if r.closed.Load() || r.e == nil {
		return newError(CodeState, "events '%s': %s: the reader is closed", r.name, what)
	}
	return nil
}

// errStopped: a read ended by its context, the reader's or the object's
// Close; the callers turn it into their own answer.
var errStopped = errors.New("stopped")

// fill reads a batch into r.buf (r.mu held, no records pending). wait:
// wait for records (until woken by ctx's watcher or Close) when none are
// there. Returns the bytes read; 0 when none (not waiting, or woken).
//
// It reads before it waits, even after a read that emptied the ring: at a
// high rate records often come while the last batch is handed over, and a
// read that finds them (a call into the bpf.so, no system call) is cheaper
// than an epoll_wait that returns at once. Waiting first cost a Go reader
// ~5 % more CPU per record at a million records a second.
func (r *RawEvents) fill(wait bool) (int, error) {
	o := r.o
	for {
		o.waitClosed()
		o.mu.RLock()
		if err := r.usable("read"); err != nil {
			o.mu.RUnlock()
			return 0, err
		}
		if wait && o.closing.Load() {
			o.mu.RUnlock()
			continue // Close is under way: wait for it, and say so
		}
		n, err := r.readLocked()
		o.mu.RUnlock()
		if err == nil && n == 0 && wait {
			if !r.w.wait() {
				return 0, nil // woken
			}
			wait = false // readable: one more read, then the caller decides
			continue
		}
		if err != nil {
			if err.Errno == syscall.ENOSPC && len(r.buf) < 1<<30 {
				r.buf = make([]byte, 2*len(r.buf)) // a record larger than the batch
				continue
			}
			return 0, err
		}
		r.pos, r.end = 0, n
		return n, nil
	}
}

// readLocked is one read without waiting (o.mu held for reading).
func (r *RawEvents) readLocked() (int, *Error) {
	if err := r.usable("read"); err != nil {
		return 0, err
	}
	// both as plain unsafe.Pointers: cgo's pointer check boxes the slice of
	// an &r.buf[0] argument, and a pointer to an incomplete C struct, an
	// allocation each on every read
	p := unsafe.Pointer(&r.buf[0])
	n, err := result(C.cbgo_events_read(r.o.lib.lib, unsafe.Pointer(r.e), p, C.size_t(len(r.buf))))
	runtime.KeepAlive(r.buf)
	return int(n), err
}

// watch makes ctx's cancellation wake a waiting read; release stops
// watching (and clears a wakeup that came meanwhile).
func (r *RawEvents) watch(ctx context.Context) (release func()) {
	done := ctx.Done()
	if done == nil {
		return func() {}
	}
	stop := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		select {
		case <-done:
			r.o.mu.RLock()
			if r.e != nil {
				r.wake()
			}
			r.o.mu.RUnlock()
		case <-stop:
		}
	}()
	return func() {
		close(stop)
		<-ended
		r.o.mu.RLock()
		if r.e != nil && !r.closed.Load() && !r.o.closing.Load() {
			r.unwake()
		}
		r.o.mu.RUnlock()
	}
}

// record is the record at r.pos: its data (a view of r.buf) and CPU.
func (r *RawEvents) record() (data []byte, cpu int, next int) {
	p := r.pos
	size := int(*(*uint32)(unsafe.Pointer(&r.buf[p])))
	cpu = int(*(*uint32)(unsafe.Pointer(&r.buf[p+4])))
	data = r.buf[p+recordHeader : p+recordHeader+size : p+recordHeader+size]
	return data, cpu, p + recordHeader + (size+7)&^7
}

// consume calls f for every record until ctx is done, the reader or the
// object is closed (errStopped), or f returns an error (returned, and the
// record counts as read unless it is errKeep). It waits for records in the
// bpf.so (poll on the reader's fd and a wake fd), one call per batch.
func (r *RawEvents) consume(ctx context.Context, f func(data []byte, cpu int) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var release func()
	defer func() {
		if release != nil {
			release()
		}
	}()
	// checked before every record: once ctx is done (a callback may cancel
	// it), no record is handed over; the rest stay for the next read
	done := ctx.Done()
	for {
		for r.pos < r.end {
			select {
			case <-done:
				return errStopped
			default:
			}
			data, cpu, next := r.record()
			err := f(data, cpu)
			if err == errKeep {
				return errStopped
			}
			r.pos = next
			if err == errEnough {
				return errStopped
			}
			if err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return errStopped
		}
		// waits once cancellation is watched (one read per batch, and one
		// that finds nothing before each wait)
		n, err := r.fill(release != nil)
		if err != nil {
			return r.ended(err)
		}
		if n == 0 && release == nil {
			release = r.watch(ctx)
		}
	}
}

// errKeep from a consume callback: stop, and leave this record for the next read.
var errKeep = errors.New("keep")

// errEnough from a consume callback: this record is read; stop.
var errEnough = errors.New("enough")

// ended turns a read error into errStopped when the reader or the object
// was closed.
func (r *RawEvents) ended(err error) error {
	if e := AsError(err); e != nil && (e.Code == CodeDestroyed || (e.Code == CodeState && r.closed.Load())) {
		return errStopped
	}
	return err
}

// Read copies the next batch of records into buf as {u32 size, u32 cpu,
// data, pad to 8}, without waiting: the bytes written (0: none waiting).
// Records left over from a typed read come first.
func (r *RawEvents) Read(buf []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	used := 0
	for {
		for r.pos < r.end {
			_, _, next := r.record()
			if next-r.pos > len(buf)-used {
				if used == 0 {
					return 0, errnoError(syscall.ENOSPC, "events '%s': read: the next record does not fit in %d bytes", r.name, len(buf))
				}
				return used, nil
			}
			used += copy(buf[used:], r.buf[r.pos:next])
			r.pos = next
		}
		if used > 0 {
			return used, nil
		}
		n, err := r.fill(false)
		if err != nil || n == 0 {
			return 0, err
		}
	}
}

// ---- typed events ----

// Record is one typed event and the CPU it came from (perf buffers; 0 for
// ring buffers).
type Record[T any] struct {
	Value T
	CPU   int
}

// Events reads typed records: each record decoded into a T with its C
// layout, without allocating (the value is passed by value).
type Events[T any] struct {
	raw *RawEvents
	c   Codec[T]
	cur T
}

// NewEvents makes a typed reader over a raw one.
func NewEvents[T any](raw *RawEvents, c Codec[T]) *Events[T] {
	return &Events[T]{raw: raw, c: c}
}

// Raw is the untyped reader underneath.
func (e *Events[T]) Raw() *RawEvents { return e.raw }

// Close closes the reader (see RawEvents.Close).
func (e *Events[T]) Close() error { return e.raw.Close() }

// Stats are the records delivered so far and (perf buffers) the samples the
// kernel dropped.
func (e *Events[T]) Stats() (records, lost uint64, err error) { return e.raw.Stats() }

func (e *Events[T]) decode(data []byte) error {
	if len(data) < e.c.Size {
		return newError(CodeMismatch, "events '%s': a record of %d bytes is shorter than the event type (%d bytes)", e.raw.name, len(data), e.c.Size)
	}
	e.c.Decode(data[:e.c.Size], &e.cur)
	return nil
}

// Consume calls fn for every record, in order, until ctx is done or the
// reader or the object is closed (then it returns nil: a clean stop), or fn
// returns an error (returned). It waits for records without spinning, and
// reads a whole batch per call into the bpf.so. A record shorter than T is
// an EMISMATCH error (and skipped). Records not yet passed to fn stay for
// the next read.
func (e *Events[T]) Consume(ctx context.Context, fn func(v T, cpu int) error) error {
	err := e.raw.consume(ctx, func(data []byte, cpu int) error {
		if err := e.decode(data); err != nil {
			return err
		}
		return fn(e.cur, cpu)
	})
	if err == errStopped {
		return nil
	}
	return err
}

// Read waits for the next record: ctx.Err() when ctx is done first, an
// EDESTROYED or ESTATE error when the object or the reader is closed.
func (e *Events[T]) Read(ctx context.Context) (Record[T], error) {
	var out Record[T]
	got := false
	err := e.raw.consume(ctx, func(data []byte, cpu int) error {
		if err := e.decode(data); err != nil {
			return err
		}
		out = Record[T]{Value: e.cur, CPU: cpu}
		got = true
		return errEnough
	})
	if got {
		return out, nil
	}
	if err == errStopped {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if e.raw.o.State() == StateDestroyed {
			return out, newError(CodeDestroyed, "events '%s': read: the object was closed", e.raw.name)
		}
		return out, newError(CodeState, "events '%s': read: the reader is closed", e.raw.name)
	}
	return out, err
}

// Drain returns, without waiting, the records left over from an earlier
// read or else what one read gives; at most max (0: no limit). The rest
// stays for the next read.
func (e *Events[T]) Drain(max int) ([]Record[T], error) {
	r := e.raw
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Record[T]
	if r.pos >= r.end {
		if _, err := r.fill(false); err != nil {
			if r.ended(err) == errStopped {
				return nil, nil
			}
			return nil, err
		}
	}
	// records of the event type's size, the usual case: one allocation
	guess := (r.end - r.pos) / (recordHeader + (e.c.Size+7)&^7)
	if max > 0 && guess > max {
		guess = max
	}
	if guess > 0 {
		out = make([]Record[T], 0, guess)
	}
	for r.pos < r.end && (max <= 0 || len(out) < max) {
		data, cpu, next := r.record()
		r.pos = next
		if err := e.decode(data); err != nil {
			return out, err
		}
		out = append(out, Record[T]{Value: e.cur, CPU: cpu})
	}
	return out, nil
}

// Subscription delivers records on a channel (see Subscribe).
type Subscription[T any] struct {
	// C receives every record; it is closed when the subscription ends.
	C <-chan Record[T]

	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Subscribe delivers every record on a channel (buffer records of room)
// from a goroutine of its own, until ctx is done, Stop, or the reader or
// object is closed; the channel is then closed. A record the goroutine could
// not hand over when it was stopped stays for the next read. Err says why it
// ended, when that was an error.
func (e *Events[T]) Subscribe(ctx context.Context, buffer int) *Subscription[T] {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan Record[T], buffer)
	s := &Subscription[T]{C: ch, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(ch)
		defer cancel()
		err := e.raw.consume(ctx, func(data []byte, cpu int) error {
			if err := e.decode(data); err != nil {
				return err
			}
			select {
			case ch <- Record[T]{Value: e.cur, CPU: cpu}:
				return nil
			case <-ctx.Done():
				return errKeep
			}
		})
		if err != errStopped {
			s.err = err
		}
	}()
	return s
}

// Stop ends the subscription and waits for its goroutine to finish.
func (s *Subscription[T]) Stop() {
	s.cancel()
	<-s.done
}

// Done is closed when the subscription has ended.
func (s *Subscription[T]) Done() <-chan struct{} { return s.done }

// Err is the error that ended the subscription (nil for a clean stop);
// valid once C is closed.
func (s *Subscription[T]) Err() error {
	<-s.done
	return s.err
}
