//! Ring buffer and perf buffer readers. Each read is one ABI call that
//! copies a whole batch of records {u32 size, u32 cpu, data, pad to 8} into
//! the reader's buffer (reused, 8-byte aligned); records are then handed out
//! in place (as `&T` when `T`'s alignment allows, else copied once), with no
//! allocation per event.
//!
//! Waiting blocks the calling thread: with a timeout, or until a
//! [`StopToken`] (which another thread may trigger) stops it. Records read
//! from the kernel but not yet handed out stay in the reader for the next
//! call, whichever form it uses.

use std::ffi::c_int;
use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ops::ControlFlow;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, EMISMATCH};
use crate::ffi::{self, pollfd};
use crate::library::Library;
use crate::pod::Pod;

const HEADER: usize = 8;
const ENOSPC: i64 = 28;
/// bytes read per ABI call (grows by itself for a larger record)
pub const DEFAULT_BATCH_BYTES: usize = 256 * 1024;
const MAX_BATCH_BYTES: usize = 1 << 30;

/// Records delivered so far, and samples the kernel dropped (perf buffers;
/// a full ring buffer drops in BPF, where bpf_ringbuf_reserve fails).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub records: u64,
    pub lost: u64,
}

/// Stops waiting readers: `stop()` from any thread ends every `consume` and
/// iteration given this token (they return normally), now or when they
/// next wait. Clones share the token; once stopped it stays stopped.
#[derive(Clone, Default)]
pub struct StopToken {
    inner: Arc<StopInner>,
}

#[derive(Default)]
struct StopInner {
    stopped: AtomicBool,
    efd: OnceLock<std::result::Result<OwnedFd, i32>>,
}

impl StopToken {
    pub fn new() -> StopToken {
        StopToken::default()
    }

    pub fn stop(&self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        if let Some(Ok(fd)) = self.inner.efd.get() {
            let one = 1u64.to_ne_bytes();
            // SAFETY: an eventfd we own; 8 bytes.
            unsafe { write(fd.as_raw_fd(), one.as_ptr().cast(), 8) };
        }
    }

    pub fn is_stopped(&self) -> bool {
        self.inner.stopped.load(Ordering::SeqCst)
    }

    /// The eventfd that becomes readable on stop().
    fn fd(&self) -> Result<RawFd> {
        let r = self.inner.efd.get_or_init(|| {
            // SAFETY: plain eventfd(2).
            let fd = unsafe { ffi::eventfd(0, ffi::EFD_CLOEXEC | ffi::EFD_NONBLOCK) };
            if fd < 0 {
                Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
            } else {
                // SAFETY: a new fd we own.
                Ok(unsafe { OwnedFd::from_raw_fd(fd) })
            }
        });
        match r {
            Ok(fd) => Ok(fd.as_raw_fd()),
            Err(errno) => Err(Error::from_errno(*errno, "StopToken: eventfd")),
        }
    }
}

impl std::fmt::Debug for StopToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopToken")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

extern "C" {
    fn write(fd: c_int, buf: *const std::ffi::c_void, count: usize) -> isize;
}

struct Batch {
    /// u64 words: records start 8-byte aligned
    buf: Vec<u64>,
    len: usize,
    pos: usize,
}

impl Batch {
    fn bytes(&self) -> &[u8] {
        // SAFETY: a u64 buffer seen as its bytes.
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), self.buf.len() * 8) }
    }
}

/// The reader of one ring buffer or perf event array (`Object::events()`).
/// Records go to whichever call reads first; use one consumer at a time.
pub struct EventReader {
    lib: Arc<Library>,
    raw: *mut ffi::coolbpf_events,
    map: String,
    fd: RawFd,
    batch: Mutex<Batch>,
}

// SAFETY: every use of `raw` (read, stats) holds the batch lock; close is
// called by the owning object with nothing borrowing the reader.
unsafe impl Send for EventReader {}
unsafe impl Sync for EventReader {}

/// Milliseconds from now to `d`, rounded up (a wait never ends just before its deadline).
fn ms_until(d: Instant) -> c_int {
    d.saturating_duration_since(Instant::now())
        .as_micros()
        .div_ceil(1000)
        .min(i32::MAX as u128) as c_int
}

/// How long a call waits for records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// not at all: deliver what is waiting and return
    No,
    /// until the deadline (None: forever), delivering records as they come
    Until(Option<Instant>),
    /// until some records came (or the deadline passed), then deliver
    /// everything waiting and return
    UntilAny(Option<Instant>),
}

/// What ended a wait-and-deliver call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// the callback returned `ControlFlow::Break`
    Break,
    /// the stop token was stopped
    Stopped,
    /// the timeout passed
    TimedOut,
    /// everything waiting was delivered (no waiting asked for)
    Drained,
}

impl EventReader {
    /// # Safety
    /// `raw` must be a live reader opened from `lib`, closed only through `close`.
    pub(crate) unsafe fn new(
        lib: Arc<Library>,
        raw: *mut ffi::coolbpf_events,
        map: String,
    ) -> EventReader {
        let fd = (lib.api().events_fd)(raw);
        EventReader {
            lib,
            raw,
            map,
            fd,
            batch: Mutex::new(Batch {
                buf: vec![0; DEFAULT_BATCH_BYTES / 8],
                len: 0,
                pos: 0,
            }),
        }
    }

    pub(crate) fn close(&self) {
        let _g = self.lock();
        // SAFETY: the owner closes each reader once.
        unsafe { (self.lib.api().events_close)(self.raw) };
    }

    fn lock(&self) -> MutexGuard<'_, Batch> {
        self.batch.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn map(&self) -> &str {
        &self.map
    }

    /// The epoll fd that is readable when records wait (for callers with their own loop).
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    pub fn stats(&self) -> Stats {
        let _g = self.lock();
        let (mut records, mut lost) = (0u64, 0u64);
        // SAFETY: a live reader (under the lock).
        unsafe { (self.lib.api().events_stats)(self.raw, &mut records, &mut lost) };
        Stats { records, lost }
    }

    /// Bytes read per call; 256 KiB unless set (grows for a larger record).
    pub fn set_batch_bytes(&self, bytes: usize) {
        let mut b = self.lock();
        let words = bytes.clamp(64, MAX_BATCH_BYTES) / 8;
        if b.pos >= b.len {
            b.buf = vec![0; words];
            b.len = 0;
            b.pos = 0;
        }
    }

    /// One ABI read into the batch (non-blocking unless `timeout_ms`);
    /// returns the bytes read. Only when the batch is used up.
    fn fill(&self, b: &mut Batch, timeout_ms: c_int) -> Result<usize> {
        loop {
            let size = b.buf.len() * 8;
            // SAFETY: a live reader; buf has `size` writable bytes.
            let n = unsafe {
                (self.lib.api().events_read)(self.raw, b.buf.as_mut_ptr().cast(), size, timeout_ms)
            };
            if n == -ENOSPC && size < MAX_BATCH_BYTES {
                b.buf = vec![0; size * 2 / 8];
                continue;
            }
            if n < 0 {
                return Err(Error::from_abi(self.lib.api(), n));
            }
            b.len = n as usize;
            b.pos = 0;
            return Ok(b.len);
        }
    }

    /// Hands out the records left in the batch until `f` breaks.
    #[inline]
    fn deliver(
        &self,
        b: &mut Batch,
        f: &mut dyn FnMut(&[u8], u32) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        while b.pos + HEADER <= b.len {
            let bytes = b.bytes();
            let at = b.pos;
            let size = u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
                as usize;
            let cpu =
                u32::from_ne_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]);
            let end = at + HEADER + size;
            b.pos = at + HEADER + ((size + 7) & !7);
            let flow = f(&b.bytes()[at + HEADER..end], cpu);
            if flow.is_break() {
                return flow;
            }
        }
        ControlFlow::Continue(())
    }

    /// Waits for readability of the reader's fd or the token's, up to `deadline`.
    fn wait(&self, stop: Option<&StopToken>, deadline: Option<Instant>) -> Result<()> {
        let timeout = match deadline {
            None => -1,
            Some(d) => ms_until(d),
        };
        let mut fds = [
            pollfd {
                fd: self.fd,
                events: ffi::POLLIN,
                revents: 0,
            },
            pollfd {
                fd: -1,
                events: ffi::POLLIN,
                revents: 0,
            },
        ];
        let n = match stop {
            Some(s) => {
                fds[1].fd = s.fd()?;
                // stopped before the eventfd existed (it is made on first wait): nothing will wake us
                if s.is_stopped() {
                    return Ok(());
                }
                2
            }
            None => 1,
        };
        // SAFETY: fds is valid for n entries.
        let r = unsafe { ffi::poll(fds.as_mut_ptr(), n, timeout) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(4) {
                return Err(Error::from_errno(
                    e.raw_os_error().unwrap_or(0),
                    format!("events '{}': poll: {e}", self.map),
                ));
            }
        }
        Ok(())
    }

    /// The engine of every form: hands records to `f` until it breaks, the
    /// token stops, or `wait` says to end (see [`Wait`]).
    pub fn run(
        &self,
        wait: Wait,
        stop: Option<&StopToken>,
        f: &mut dyn FnMut(&[u8], u32) -> ControlFlow<()>,
    ) -> Result<End> {
        let (deadline, until_any) = match wait {
            Wait::No => (None, false),
            Wait::Until(d) => (d, false),
            Wait::UntilAny(d) => (d, true),
        };
        let mut b = self.lock();
        let mut delivered = false;
        loop {
            if stop.is_some_and(StopToken::is_stopped) {
                return Ok(End::Stopped);
            }
            if b.pos < b.len {
                delivered = true;
                if self.deliver(&mut b, f).is_break() {
                    return Ok(End::Break);
                }
            }
            if self.fill(&mut b, 0)? > 0 {
                continue;
            }
            if stop.is_some_and(StopToken::is_stopped) {
                return Ok(End::Stopped);
            }
            if wait == Wait::No || (until_any && delivered) {
                return Ok(End::Drained);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(End::TimedOut);
            }
            if stop.is_none() {
                // no token: the ABI waits on its own epoll fd
                let ms = deadline.map_or(-1, |d| ms_until(d).max(1));
                self.fill(&mut b, ms)?;
                continue;
            }
            self.wait(stop, deadline)?;
        }
    }

    /// Copies up to `buf.len()` bytes of whole records (the ABI's format)
    /// into `buf`, waiting up to `timeout` (None: forever) when none wait.
    /// Records already in the reader's batch come first.
    pub fn read_into(&self, buf: &mut [u8], timeout: Option<Duration>) -> Result<usize> {
        let mut b = self.lock();
        if b.pos < b.len {
            let start = b.pos;
            let mut end = start;
            let bytes = b.bytes();
            while end + HEADER <= b.len {
                let size = u32::from_ne_bytes([
                    bytes[end],
                    bytes[end + 1],
                    bytes[end + 2],
                    bytes[end + 3],
                ]) as usize;
                let next = end + HEADER + ((size + 7) & !7);
                if next - start > buf.len() {
                    break;
                }
                end = next;
            }
            if end == start {
                return Err(Error::from_errno(
                    28,
                    format!(
                        "events '{}': the next record does not fit in {} bytes",
                        self.map,
                        buf.len()
                    ),
                ));
            }
            buf[..end - start].copy_from_slice(&b.bytes()[start..end]);
            b.pos = end;
            return Ok(end - start);
        }
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as c_int);
        // SAFETY: a live reader; buf is writable for its length.
        let n = unsafe {
            (self.lib.api().events_read)(self.raw, buf.as_mut_ptr().cast(), buf.len(), ms)
        };
        if n < 0 {
            return Err(Error::from_abi(self.lib.api(), n));
        }
        Ok(n as usize)
    }
}

impl std::fmt::Debug for EventReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventReader")
            .field("map", &self.map)
            .field("fd", &self.fd)
            .finish()
    }
}

/// Decodes a record as `T` and hands it to `f`: in place when the record is
/// large enough and `T`'s alignment at most 8 (records are 8-aligned), else
/// through one copy. A record shorter than `T` is `EMISMATCH`.
#[inline]
fn with_record<T: Pod, R>(map: &str, data: &[u8], f: impl FnOnce(&T) -> R) -> Result<R> {
    if data.len() < size_of::<T>() {
        return Err(Error::new(
            EMISMATCH,
            format!(
                "events '{map}': a record of {} bytes is shorter than its type ({} bytes)",
                data.len(),
                size_of::<T>()
            ),
        ));
    }
    if align_of::<T>() <= 8 && (data.as_ptr() as usize) % align_of::<T>() == 0 {
        // SAFETY: in bounds, aligned; any bytes are a valid T; the batch is
        // not written while the reference lives.
        Ok(f(unsafe { &*data.as_ptr().cast::<T>() }))
    } else {
        // SAFETY: in bounds; any bytes are a valid T.
        let v: T = unsafe { std::ptr::read_unaligned(data.as_ptr().cast::<T>()) };
        Ok(f(&v))
    }
}

/// Typed events: the records of one map as `T` (generated code makes one
/// per event map).
pub struct TypedEvents<'a, T> {
    reader: &'a EventReader,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedEvents<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for TypedEvents<'_, T> {}

impl<'a, T: Pod> TypedEvents<'a, T> {
    pub fn new(reader: &'a EventReader) -> TypedEvents<'a, T> {
        TypedEvents {
            reader,
            _t: PhantomData,
        }
    }

    /// The events of the map called `name` of a loaded object (its reader, opened on first use).
    pub fn of(object: &'a crate::object::Object, map: &str) -> Result<TypedEvents<'a, T>> {
        Ok(TypedEvents::new(object.events(map)?))
    }

    pub fn reader(&self) -> &'a EventReader {
        self.reader
    }

    pub fn stats(&self) -> Stats {
        self.reader.stats()
    }

    fn typed<'f>(
        &self,
        err: &'f mut Option<Error>,
        f: &'f mut impl FnMut(&T, u32) -> ControlFlow<()>,
    ) -> impl FnMut(&[u8], u32) -> ControlFlow<()> + 'f
    where
        'a: 'f,
    {
        let map: &'a str = &self.reader.map;
        move |data, cpu| match with_record::<T, _>(map, data, |v| f(v, cpu)) {
            Ok(flow) => flow,
            Err(e) => {
                *err = Some(e);
                ControlFlow::Break(())
            }
        }
    }

    fn go(
        &self,
        wait: Wait,
        stop: Option<&StopToken>,
        mut f: impl FnMut(&T, u32) -> ControlFlow<()>,
    ) -> Result<End> {
        let mut err = None;
        let end = {
            let mut g = self.typed(&mut err, &mut f);
            self.reader.run(wait, stop, &mut g)?
        };
        match err {
            Some(e) => Err(e),
            None => Ok(end),
        }
    }

    /// Waits up to `timeout` for records, then hands every record waiting
    /// to `f(event, cpu)` (cpu: perf buffers' CPU, 0 for ring buffers) and
    /// returns how many. The batch-at-a-time loop of an event consumer.
    pub fn poll(&self, timeout: Duration, mut f: impl FnMut(&T, u32)) -> Result<usize> {
        let mut n = 0usize;
        self.go(
            Wait::UntilAny(Some(Instant::now() + timeout)),
            None,
            |v, cpu| {
                f(v, cpu);
                n += 1;
                ControlFlow::Continue(())
            },
        )?;
        Ok(n)
    }

    /// Hands every record waiting now to `f`, without waiting; returns how many.
    pub fn drain(&self, mut f: impl FnMut(&T, u32)) -> Result<usize> {
        let mut n = 0usize;
        self.go(Wait::No, None, |v, cpu| {
            f(v, cpu);
            n += 1;
            ControlFlow::Continue(())
        })?;
        Ok(n)
    }

    /// Calls `f(event, cpu)` for every event, waiting for more, until `f`
    /// returns `ControlFlow::Break(())` or `stop` is stopped (from another
    /// thread, or from `f`); returns normally then. Records after a break
    /// stay for the next call.
    pub fn consume(
        &self,
        stop: &StopToken,
        f: impl FnMut(&T, u32) -> ControlFlow<()>,
    ) -> Result<End> {
        self.go(Wait::Until(None), Some(stop), f)
    }

    /// `consume` that also ends when `timeout` passes.
    pub fn consume_for(
        &self,
        timeout: Duration,
        stop: Option<&StopToken>,
        f: impl FnMut(&T, u32) -> ControlFlow<()>,
    ) -> Result<End> {
        self.go(Wait::Until(Some(Instant::now() + timeout)), stop, f)
    }

    /// An iterator over the events (values of `T`), waiting for each: it
    /// ends when its stop token stops or its deadline passes; read errors
    /// are yielded. `iter().stop_on(&token)`, `iter().timeout(d)`.
    pub fn iter(&self) -> EventIter<'a, T> {
        EventIter {
            events: *self,
            stop: None,
            deadline: None,
            wait: true,
            last_cpu: 0,
            ended: false,
        }
    }
}

/// Events one at a time (see [`TypedEvents::iter`]).
pub struct EventIter<'a, T> {
    events: TypedEvents<'a, T>,
    stop: Option<StopToken>,
    deadline: Option<Instant>,
    wait: bool,
    last_cpu: u32,
    ended: bool,
}

impl<'a, T: Pod> EventIter<'a, T> {
    /// Ends when `token` stops.
    pub fn stop_on(mut self, token: &StopToken) -> Self {
        self.stop = Some(token.clone());
        self
    }

    /// Ends when `timeout` has passed from now.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Some(Instant::now() + timeout);
        self
    }

    /// Ends at `deadline`.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Ends as soon as no event is waiting (never waits).
    pub fn nonblocking(mut self) -> Self {
        self.wait = false;
        self
    }

    /// The CPU of the last event (perf buffers; 0 for ring buffers).
    pub fn last_cpu(&self) -> u32 {
        self.last_cpu
    }

    /// Events with their CPU.
    pub fn with_cpu(self) -> impl Iterator<Item = Result<(T, u32)>> + 'a
    where
        T: 'a,
    {
        let mut it = self;
        std::iter::from_fn(move || it.next().map(|r| r.map(|v| (v, it.last_cpu))))
    }
}

impl<T: Pod> Iterator for EventIter<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.ended {
            return None;
        }
        let mut got: Option<(T, u32)> = None;
        let wait = if self.wait {
            Wait::Until(self.deadline)
        } else {
            Wait::No
        };
        let r = self.events.go(wait, self.stop.as_ref(), |v, cpu| {
            got = Some((*v, cpu));
            ControlFlow::Break(())
        });
        match r {
            Ok(End::Break) => {
                let (v, cpu) = got?;
                self.last_cpu = cpu;
                Some(Ok(v))
            }
            Ok(_) => {
                self.ended = true;
                None
            }
            Err(e) => Some(Err(e)),
        }
    }
}
