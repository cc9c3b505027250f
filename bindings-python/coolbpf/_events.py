"""Ring buffer and perf buffer readers.

One non-blocking ABI call copies a whole batch of records ({u32 size, u32 cpu,
data, pad to 8}) into a reused buffer; the batch is decoded at once (records
of one size: one ``Struct.iter_unpack`` over it). Waiting happens outside the
ABI, on its epoll fd: ``select.poll`` for iterators and callbacks (a signal
such as Ctrl-C interrupts it), ``loop.add_reader`` for asyncio.
"""
from __future__ import annotations

import asyncio
import ctypes
import os
import select
import struct
import threading
import time
from collections import deque
from ctypes import byref, c_uint64
from itertools import starmap
from typing import TYPE_CHECKING, Any, Callable, Generator, Generic, Iterator, NamedTuple, TypeVar

from ._codec import Codec
from ._errors import CoolbpfError

if TYPE_CHECKING:
    from types import TracebackType

    from ._object import BpfObject

T = TypeVar("T")

_ENOSPC = 28
_HDR = struct.Struct("=II")
_DEFAULT_BATCH = 256 * 1024
_MAX_BATCH = 1 << 28


class EventStats(NamedTuple):
    #: records delivered to this reader so far
    records: int
    #: perf buffers: samples the kernel dropped (a full ring buffer drops in BPF,
    #: where bpf_ringbuf_reserve fails)
    lost: int


class _Waker:
    """A pipe that wakes one waiter (stop(), close, destroy)."""

    def __init__(self) -> None:
        self.r, self.w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.closed = False

    def wake(self) -> None:
        if self.closed:
            return
        try:
            os.write(self.w, b"x")
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.r)
            os.close(self.w)


class RawEvents:
    """A ring buffer / perf event array reader (BpfObject.events()): raw batches.

    Records go to whichever consumer reads first: one consumer per reader. Two
    readers of one ring buffer share its records.
    """

    def __init__(self, obj: BpfObject, map: str, handle: int) -> None:
        self._obj = obj
        self.map = map
        self._e: int | None = handle
        lib = obj.library
        #: the epoll fd that is readable when records wait (for your own loop)
        self.fd: int = lib.fn["events_fd"](handle)
        self._stats = EventStats(0, 0)
        self._wakers: set[_Waker] = set()
        self._close_listeners: list[Callable[[], None]] = []
        self.closed = False
        self._read_fn = lib.fn["events_read"]
        # the poll set of a plain wait (no waker), made once: a consumer that keeps
        # up waits once per batch
        self._poller = select.poll()
        self._poller.register(self.fd, select.POLLIN)

    def fileno(self) -> int:
        return self.fd

    def read(self, buf: Any, size: int | None = None) -> int:
        """Non-blocking: copies whole records into `buf` (a ctypes buffer); returns the
        bytes used, 0 when none wait. A first record larger than the buffer raises
        'ENOSPC' (it stays queued)."""
        obj = self._obj
        n = obj._native
        with n.lock:
            if n.state == "destroyed":
                raise CoolbpfError(f"events '{self.map}': read: the object was destroyed", "EDESTROYED")
            if self._e is None:
                raise CoolbpfError(f"events '{self.map}': read: the reader is closed", "ESTATE")
            r = int(self._read_fn(self._e, buf, ctypes.sizeof(buf) if size is None else size, 0))
            if r < 0:
                raise obj.library.error(r)
            return r

    def stats(self) -> EventStats:
        with self._obj._native.lock:
            if self._e is not None:
                rec, lost = c_uint64(0), c_uint64(0)
                self._obj.library.fn["events_stats"](self._e, byref(rec), byref(lost))
                self._stats = EventStats(rec.value, lost.value)
            return self._stats

    def wait(self, timeout: float | None, waker: _Waker | None = None) -> bool:
        """Waits until records may be waiting (True), or `timeout` seconds pass, the
        waker wakes or the reader closes (False). A signal interrupts it as usual."""
        if self.closed:
            return False
        p = self._poller
        if waker is not None:
            p = select.poll()
            p.register(self.fd, select.POLLIN)
            p.register(waker.r, select.POLLIN)
        ready = p.poll(None if timeout is None else max(0, int(timeout * 1000 + 0.999)))
        if self.closed:
            return False
        return any(fd == self.fd for fd, _ in ready)

    def _add_waker(self, w: _Waker) -> None:
        self._wakers.add(w)
        if self.closed:
            w.wake()

    def _on_close(self, f: Callable[[], None]) -> Callable[[], None]:
        """Calls f when the reader closes; returns the function that unregisters it."""
        if self.closed:
            f()
            return lambda: None
        self._close_listeners.append(f)

        def remove() -> None:
            if f in self._close_listeners:
                self._close_listeners.remove(f)

        return remove

    def _close_native(self) -> None:
        """Closes the C reader (the object's lock is held) and wakes every waiter."""
        if self._e is not None:
            self.stats()
            self._obj.library.fn["events_close"](self._e)
            self._e = None
        self.closed = True
        for w in list(self._wakers):
            w.wake()
        for f in list(self._close_listeners):
            f()
        self._close_listeners.clear()

    def close(self) -> None:
        """Closes the reader: waiting iterations end, subscriptions stop. Idempotent."""
        n = self._obj._native
        with n.lock:
            if self in n.readers:
                n.readers.remove(self)
            self._close_native()

    def __enter__(self) -> RawEvents:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class TypedEvents(Generic[T]):
    """Typed events from a ring buffer or perf event array (generated code makes one
    per event map, opened at load, so a perf buffer keeps what BPF sends before the
    first read).

    - ``for ev in events.iter(timeout=1.0)``: blocks between events; ends when no
      event comes for `timeout` seconds (None: never), on ``stop()`` from another
      thread, or when the reader closes or the object is destroyed; ``break`` is
      clean too.
    - ``async for ev in events.aiter(timeout=...)``: the same in asyncio, waiting
      with ``loop.add_reader`` on the epoll fd.
    - ``events.poll(callback, timeout)``: waits once, calls ``callback(event, cpu)``
      for everything available (cpu: the perf buffer's CPU, 0 for ring buffers).
    - ``events.subscribe(callback)``: calls it from a thread (or an asyncio loop)
      until ``stop()``.
    - ``events.drain()``: what is available now, without waiting.

    Records read but not yet delivered stay for the next consumer. A record
    shorter than the event type raises 'EMISMATCH' (it is skipped).
    """

    def __init__(self, raw: RawEvents, codec: Codec[T], batch_bytes: int = _DEFAULT_BATCH) -> None:
        self.raw = raw
        self.map = raw.map
        self.codec = codec
        self._alloc(max(batch_bytes, 64))
        self._pending: deque[tuple[T, int]] = deque()
        self._lock = threading.Lock()
        self._decode1 = codec.tuple_decoder()
        self._star = codec.star_decoder()
        self._last_bytes = 0
        self._inflight: Iterator[tuple[T, int]] | None = None
        # a record of the event type, with its header: what "room for one more" means
        self._room = 8 + ((codec.size + 7) & ~7)
        self._records: dict[int, struct.Struct] = {}
        self._little = codec.order == "<" and struct.pack("=I", 1) == struct.pack("<I", 1)

    def _alloc(self, n: int) -> None:
        n = (n + 7) & ~7
        self._buf = (ctypes.c_ubyte * n)()
        self._mv = memoryview(self._buf).cast("B")
        self._u32 = self._mv.cast("I")

    # ---- reading ----

    def _settle(self) -> None:
        """Decodes what is left of a batch being delivered lazily into the pending
        records (self._lock held), before anything reads into the buffer again."""
        it = self._inflight
        if it is not None:
            self._inflight = None
            self._pending.extend(it)

    def _take_lazy(self) -> tuple[Iterator[tuple[T, int]], int] | None:
        """Like _take, but the events come from an iterator that decodes each one as
        it is taken: a consumer that lets go of each event before the next keeps
        only one alive, so the batch does not wake the cyclic garbage collector
        (which a list of thousands of new objects does, at a cost of tens of
        percent). The rest of it is decoded into the pending records by the next
        read, whoever makes it."""
        with self._lock:
            self._settle()
            if self._pending:
                rest = list(self._pending)
                self._pending.clear()
                self._last_bytes = len(self._buf)  # as if full: read on
                return iter(rest), len(rest)
            got = self._read()
            if got is None:
                return None
            if got == 0:
                return iter(()), 0
            lazy = self._decode_lazy(got)
            if lazy is None:
                evs, cpus = self._decode(got)
                return zip(evs, cpus), len(evs)
            self._inflight = lazy[0]
            return lazy

    def _read(self) -> int | None:
        """One non-blocking read into the buffer (self._lock held): the bytes; None
        when the reader is closed or the object destroyed."""
        while True:
            try:
                n = self.raw.read(self._buf)
            except CoolbpfError as e:
                if e.code == "EDESTROYED" or (e.code == "ESTATE" and self.raw.closed):
                    return None
                if e.errno == _ENOSPC and len(self._buf) < _MAX_BATCH:
                    self._alloc(len(self._buf) * 2)
                    continue
                raise
            self._last_bytes = n
            return n

    def _take(self) -> tuple[list[T], list[int]] | None:
        """One non-blocking read, decoded: the events and their CPUs (empty when none
        waited); None when the reader is closed or the object destroyed. Records
        left by a lazy batch come first, instead of a read."""
        with self._lock:
            self._settle()
            if self._pending:
                evs = [e for e, _ in self._pending]
                cpus = [c for _, c in self._pending]
                self._pending.clear()
                return evs, cpus
            n = self._read()
            if n is None:
                return None
            if n == 0:
                return [], []
            return self._decode(n)

    def _fill(self) -> int:
        """One non-blocking read into the pending records: how many came; -1 when the
        reader is closed or the object destroyed."""
        got = self._take()
        if got is None:
            return -1
        evs, cpus = got
        self._pending.extend(zip(evs, cpus))
        return len(evs)

    def _decode_lazy(self, n: int) -> tuple[Iterator[tuple[T, int]], int] | None:
        """The n bytes of records as a lazy iterator of (event, cpu) and its length,
        when they are records of one size that a plain struct decodes; else None."""
        u32 = self._u32
        size0 = u32[0]
        stride = 8 + ((size0 + 7) & ~7)
        star = self._star
        if star is None or not self._little or size0 < self.codec.size or n % stride:
            return None
        count = n // stride
        step = stride // 4
        words = u32[: n // 4]
        if words[0::step].tolist().count(size0) != count:
            return None
        items = self._record_struct(size0).iter_unpack(self._mv[:n])
        return zip(starmap(star, items), words[1::step].tolist()), count

    def _record_struct(self, size: int) -> struct.Struct:
        s = self._records.get(size)
        if s is None:
            pad = ((size + 7) & ~7) - self.codec.size
            s = self._records[size] = struct.Struct(f"<8x{self.codec.fmt}{pad}x")
        return s

    def _decode(self, n: int) -> tuple[list[T], list[int]]:
        """The n bytes of records in the buffer, decoded: events and their CPUs. A
        record shorter than the event type is skipped and raises EMISMATCH after the
        others are kept as pending."""
        mv = self._mv
        u32 = self._u32
        codec = self.codec
        size0 = u32[0]
        stride = 8 + ((size0 + 7) & ~7)
        if self._little and size0 >= codec.size and n % stride == 0:
            count = n // stride
            step = stride // 4
            words = u32[: n // 4]
            if words[0::step].tolist().count(size0) == count:
                items = self._record_struct(size0).iter_unpack(mv[:n])
                star = self._star
                evs = list(starmap(star, items)) if star is not None else list(map(self._decode1, items))
                return evs, words[1::step].tolist()
        off = 0
        short: str | None = None
        decode = codec.decode
        out: list[T] = []
        cpus: list[int] = []
        while off < n:
            size, cpu = _HDR.unpack_from(mv, off)
            if size < codec.size:
                short = short or f"events '{self.map}': a record of {size} bytes is shorter than {codec.c} ({codec.size} bytes); skipped"
            else:
                out.append(decode(mv, off + 8))
                cpus.append(cpu)
            off += 8 + ((size + 7) & ~7)
        if short:
            self._pending.extend(zip(out, cpus))
            raise CoolbpfError(short, "EMISMATCH")
        return out, cpus

    # ---- consumers ----

    def drain(self, max: int | None = None) -> list[T]:
        """Events available now, without waiting: what an earlier read left, else one
        non-blocking read (at most `max`)."""
        if not self._pending:
            got = self._take()
            if got is None:
                raise CoolbpfError(f"events '{self.map}': the reader is closed", "ESTATE")
            evs, cpus = got
            if max is None or len(evs) <= max:
                return evs
            self._pending.extend(zip(evs[max:], cpus[max:]))
            return evs[:max]
        out: list[T] = []
        p = self._pending
        while p and (max is None or len(out) < max):
            out.append(p.popleft()[0])
        return out

    def poll(self, callback: Callable[[T, int], object], timeout: float | None = None) -> int:
        """Waits up to `timeout` seconds (None: forever) for events, then calls
        ``callback(event, cpu)`` for every event available; returns how many. 0 on
        timeout or when the reader is closed."""
        count = 0
        got = self._take_lazy()
        if got is not None and got[1] == 0:
            if not self.raw.wait(timeout):
                return 0
            got = self._take_lazy()
        # events decoded one at a time as they are delivered: what a raising
        # callback did not get stays (decoded by the next read)
        while got is not None and got[1]:
            for ev, cpu in got[0]:
                count += 1
                callback(ev, cpu)
            # a read that left room for another record took everything there was
            if self._last_bytes + self._room < len(self._buf):
                break
            got = self._take_lazy()
        return count

    def iter(self, timeout: float | None = None) -> EventIterator[T]:
        """A blocking iterator (see the class); ``stop()`` ends it from anywhere."""
        return EventIterator(self, timeout)

    def __iter__(self) -> Iterator[T]:
        return iter(EventIterator(self, None))

    def aiter(self, timeout: float | None = None) -> AsyncEventIterator[T]:
        """An asyncio iterator (see the class); ``stop()`` ends it from anywhere."""
        return AsyncEventIterator(self, timeout)

    def __aiter__(self) -> AsyncEventIterator[T]:
        return AsyncEventIterator(self, None)

    def subscribe(self, callback: Callable[[T, int], object], *,
                  loop: asyncio.AbstractEventLoop | None = None) -> Subscription[T]:
        """Calls ``callback(event, cpu)`` for every event until ``stop()``, the reader
        closes or the object is destroyed: from a thread of its own, or with `loop` in
        that asyncio loop (``loop.add_reader``). If the callback raises, the
        subscription stops and ``join()`` raises that exception."""
        return Subscription(self, callback, loop)

    def stats(self) -> EventStats:
        """Records delivered so far and, for perf buffers, samples the kernel dropped."""
        return self.raw.stats()

    def fileno(self) -> int:
        """The epoll fd that is readable when records wait (for select/selectors)."""
        return self.raw.fd

    def close(self) -> None:
        self.raw.close()

    def __repr__(self) -> str:
        return f"<TypedEvents {self.map!r} of {self.codec.c}>"


class EventIterator(Generic[T]):
    """``for ev in events.iter(timeout)``: see TypedEvents."""

    def __init__(self, events: TypedEvents[T], timeout: float | None) -> None:
        self._events = events
        self._timeout = timeout
        self._stopped = False
        self._waker: _Waker | None = None
        self._gen = self._run()

    def _run(self) -> Generator[T, None, None]:
        ev = self._events
        p = ev._pending
        raw = ev.raw
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        try:
            while not self._stopped:
                if p:
                    yield p.popleft()[0]
                    while p and not self._stopped:
                        yield p.popleft()[0]
                    if self._timeout is not None:
                        deadline = time.monotonic() + self._timeout
                    continue
                got = ev._fill()
                if got < 0:
                    return
                if got:
                    continue
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return
                if self._waker is None:
                    self._waker = _Waker()
                    raw._add_waker(self._waker)
                if not raw.wait(remaining, self._waker) and (raw.closed or self._stopped):
                    return
        finally:
            w = self._waker
            if w is not None:
                raw._wakers.discard(w)
                w.close()
                self._waker = None

    def __iter__(self) -> Iterator[T]:
        return self._gen

    def __next__(self) -> T:
        return next(self._gen)

    def stop(self) -> None:
        """Ends the iteration (from another thread too): the loop ends cleanly."""
        self._stopped = True
        w = self._waker
        if w is not None:
            w.wake()

    def close(self) -> None:
        self.stop()
        self._gen.close()


class AsyncEventIterator(Generic[T]):
    """``async for ev in events.aiter(timeout)``: see TypedEvents."""

    def __init__(self, events: TypedEvents[T], timeout: float | None) -> None:
        self._events = events
        self._timeout = timeout
        self._stopped = False
        self._wake: Callable[[], None] | None = None

    def __aiter__(self) -> AsyncEventIterator[T]:
        return self

    async def __anext__(self) -> T:
        ev = self._events
        p = ev._pending
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            if self._stopped:
                raise StopAsyncIteration
            if p:
                return p.popleft()[0]
            got = ev._fill()
            if got < 0:
                raise StopAsyncIteration
            if got:
                continue
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise StopAsyncIteration
            if not await self._wait(remaining):
                if self._stopped or ev.raw.closed:
                    raise StopAsyncIteration

    async def _wait(self, timeout: float | None) -> bool:
        """True when the fd became readable or a re-check found records; False on
        timeout, stop() or close."""
        ev = self._events
        raw = ev.raw
        if raw.closed:
            return False
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()

        def done(v: bool) -> None:
            if not fut.done():
                fut.set_result(v)

        def recheck() -> None:
            # epoll may have reported a perf sample before the fd was watched
            try:
                if not fut.done() and ev._fill() != 0:
                    done(True)
            except BaseException as e:  # noqa: BLE001 - delivered to the waiter
                if not fut.done():
                    fut.set_exception(e)

        fd = raw.fd
        loop.add_reader(fd, done, True)
        def wake() -> None:
            loop.call_soon_threadsafe(done, False)

        self._wake = wake
        unlisten = raw._on_close(wake)
        timer = loop.call_later(timeout, done, False) if timeout is not None else None
        loop.call_soon(recheck)
        try:
            return await fut
        finally:
            if timer is not None:
                timer.cancel()
            unlisten()
            self._wake = None
            if not raw.closed:
                loop.remove_reader(fd)
            else:
                try:
                    loop.remove_reader(fd)
                except (OSError, ValueError):
                    pass

    def stop(self) -> None:
        """Ends the iteration (from another thread or task too)."""
        self._stopped = True
        w = self._wake
        if w is not None:
            w()


class Subscription(Generic[T]):
    """A running ``subscribe()``: ``stop()`` ends it (records not yet delivered stay
    for the next consumer), ``join()`` waits for the end and raises what the callback
    raised. A context manager: leaving the block stops it."""

    def __init__(self, events: TypedEvents[T], callback: Callable[[T, int], object],
                 loop: asyncio.AbstractEventLoop | None) -> None:
        self._events = events
        self._callback = callback
        self._stopped = False
        self._done = threading.Event()
        #: what the callback raised, which ended the subscription
        self.error: BaseException | None = None
        self._loop = loop
        self._thread: threading.Thread | None = None
        self._waker: _Waker | None = None
        if loop is None:
            self._waker = _Waker()
            events.raw._add_waker(self._waker)
            self._thread = threading.Thread(target=self._run, name=f"coolbpf events {events.map}", daemon=True)
            self._thread.start()
        else:
            def finish() -> None:
                loop.call_soon_threadsafe(self._finish)

            self._unlisten = events.raw._on_close(finish)
            loop.call_soon_threadsafe(self._start_loop)

    # -- in a thread --

    def _deliver(self) -> bool:
        """Delivers what is pending, reading more while there is; False once ended."""
        ev = self._events
        p = ev._pending
        cb = self._callback
        while not self._stopped:
            while p and not self._stopped:
                e, cpu = p.popleft()
                cb(e, cpu)
            if self._stopped:
                return False
            got = ev._fill()
            if got < 0:
                return False
            if got == 0:
                return True
        return False

    def _run(self) -> None:
        ev = self._events
        waker = self._waker
        assert waker is not None
        try:
            while self._deliver():
                if not ev.raw.wait(None, waker) and (ev.raw.closed or self._stopped):
                    break
        except BaseException as e:
            self.error = e
            self._stopped = True
            raise
        finally:
            ev.raw._wakers.discard(waker)
            waker.close()
            self._done.set()

    # -- in an asyncio loop --

    def _start_loop(self) -> None:
        loop = self._loop
        assert loop is not None
        if self._stopped or self._events.raw.closed:
            self._finish()
            return
        loop.add_reader(self._events.raw.fd, self._on_readable)
        loop.call_soon(self._on_readable)

    def _on_readable(self) -> None:
        if self._done.is_set():
            return
        try:
            if not self._deliver():
                self._finish()
        except BaseException as e:  # noqa: BLE001 - reported below
            self.error = e
            self._finish()
            assert self._loop is not None
            self._loop.call_exception_handler(
                {"message": f"coolbpf: the callback of events '{self._events.map}' raised", "exception": e})

    def _finish(self) -> None:
        if self._done.is_set():
            return
        self._stopped = True
        loop = self._loop
        if loop is not None:
            try:
                loop.remove_reader(self._events.raw.fd)
            except (OSError, ValueError):
                pass
            self._unlisten()
        self._done.set()

    # -- the API --

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def stop(self) -> None:
        """Stops delivering (from anywhere, the callback included); waits for a
        callback running in another thread to return."""
        self._stopped = True
        if self._waker is not None:
            self._waker.wake()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join()
        loop = self._loop
        if loop is not None:
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                self._finish()
            else:
                loop.call_soon_threadsafe(self._finish)

    def join(self, timeout: float | None = None) -> None:
        """Waits until the subscription ends (stop(), close, destroy, or the callback
        raised: that exception is raised here)."""
        if self._thread is not None:
            self._thread.join(timeout)
        else:
            self._done.wait(timeout)
        if self.error is not None:
            raise self.error

    def __enter__(self) -> Subscription[T]:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

