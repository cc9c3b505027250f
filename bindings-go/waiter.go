package coolbpf

import (
	"runtime"
	"sync"
	"syscall"
)

// waiter is how a reader waits for records: a blocking epoll_wait on an
// epoll set of the reader's fd and a wake pipe, made by the goroutine itself
// (a plain system call, as Go's runtime expects of a short wait: the thread
// keeps its P unless the wait is long). Level-triggered, so a record that
// came between a read that found nothing and the wait is never missed. A
// byte in the pipe wakes the wait, and the next ones, until unwake.
//
// Close must not pull the fds from under a wait (a reused fd number could
// then be waited on): kill marks the waiter dead and the last one out of
// wait closes them.
//
// Every yieldEvery waits the goroutine passes through the scheduler: Go's
// sysmon takes a goroutine that has not done so for 10 ms for a long-running
// one, however short its system calls, and from then on takes its P away at
// every 20 µs tick that finds it in one (a reader woken 50,000 times a second
// lost its P ~4,000 times a second, each a handoff and a wakeup of sysmon).
type waiter struct {
	mu     sync.Mutex
	ep     int
	pipe   [2]int
	users  int
	waits  uint
	dead   bool
	closed bool
}

const yieldEvery = 64

func newWaiter(fd int) (*waiter, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	w := &waiter{ep: ep, pipe: [2]int{-1, -1}}
	if err := syscall.Pipe2(w.pipe[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		w.close()
		return nil, err
	}
	for i, f := range []int{fd, w.pipe[0]} {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(i)}
		if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, f, &ev); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *waiter) close() {
	if w.closed {
		return
	}
	w.closed = true
	for _, f := range []int{w.ep, w.pipe[0], w.pipe[1]} {
		if f >= 0 {
			syscall.Close(f)
		}
	}
}

// wait blocks until records may be waiting (true) or a wake (false).
func (w *waiter) wait() bool {
	w.mu.Lock()
	if w.dead {
		w.mu.Unlock()
		return false
	}
	w.users++
	w.waits++
	yield := w.waits%yieldEvery == 0
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.users--
		if w.dead && w.users == 0 {
			w.close()
		}
		w.mu.Unlock()
	}()
	if yield {
		runtime.Gosched()
	}
	var evs [2]syscall.EpollEvent
	for {
		n, err := syscall.EpollWait(w.ep, evs[:], -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return false
		}
		for _, e := range evs[:n] {
			if e.Fd == 1 {
				return false
			}
		}
		return true
	}
}

// wake ends the waits under way and the ones to come, until unwake.
func (w *waiter) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		_, _ = syscall.Write(w.pipe[1], []byte{1})
	}
}

// unwake lets waits wait again.
func (w *waiter) unwake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b [64]byte
	for !w.closed {
		if n, err := syscall.Read(w.pipe[0], b[:]); n <= 0 || err != nil {
			return
		}
	}
}

// kill wakes every wait for good; the fds close once no wait uses them.
func (w *waiter) kill() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dead = true
	if !w.closed {
		_, _ = syscall.Write(w.pipe[1], []byte{1})
	}
	if w.users == 0 {
		w.close()
	}
}
