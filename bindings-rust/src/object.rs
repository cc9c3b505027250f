//! The object embedded in a bpf.so and its lifecycle:
//! opened → (set_initial, set_autoload) → load() → attach() / attach_*() → destroy().
//!
//! Every call checks the state: out of order is `ESTATE`, anything after
//! `destroy()` is `EDESTROYED` (`destroy()` itself is idempotent). Views,
//! maps, readers and links borrow the object, so it cannot be destroyed
//! (nor dropped) while one is in use: the compiler refuses it.

use std::ffi::{c_char, c_int, CStr, CString};
use std::fmt;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, Result, EDESTROYED, ESTATE};
use crate::events::EventReader;
use crate::ffi::{self, Api};
use crate::library::Library;
use crate::maps::RawMap;
use crate::section::{ReadOnly, ReadWrite, Section};

/// Options of `open()`: libbpf's.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// kernel BTF to use instead of /sys/kernel/btf/vmlinux
    pub btf_path: Option<PathBuf>,
    /// libbpf messages up to this level go to `log_fd`: 0 warnings, 1 info, 2 debug
    pub log_level: u8,
    /// where libbpf's log goes (2 for stderr); None: nowhere (failures are in the errors)
    pub log_fd: Option<RawFd>,
}

/// Where an object is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Opened,
    Loaded,
    Attached,
    Destroyed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Opened => "opened",
            State::Loaded => "loaded",
            State::Attached => "attached",
            State::Destroyed => "destroyed",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Opened,
    Loaded,
    Alive,
}

pub(crate) struct Inner {
    pub(crate) state: State,
    load_failed: bool,
    autoload: Vec<(String, bool)>,
    // boxed: the references events() hands out must not move when the Vec grows
    #[allow(clippy::vec_box)]
    readers: Vec<Box<EventReader>>,
}

/// An opened (and later loaded) BPF object. `Send` and `Sync`: calls that
/// change the object are serialized inside; maps, sections and readers can
/// be used from several threads (a reader by one at a time).
pub struct Object {
    lib: Arc<Library>,
    raw: *mut ffi::coolbpf,
    inner: Mutex<Inner>,
}

// SAFETY: the ABI's map and section calls only read the object; everything
// that changes it (load, attach, detach, readers) runs under `inner`'s lock.
unsafe impl Send for Object {}
unsafe impl Sync for Object {}

pub(crate) fn cstring(what: &str, s: &str) -> Result<CString> {
    CString::new(s)
        .map_err(|_| Error::invalid(format!("{what} '{}' contains a NUL byte", s.escape_debug())))
}

impl Object {
    pub(crate) fn open(lib: Arc<Library>, o: &OpenOptions) -> Result<Object> {
        if o.log_level > 2 {
            return Err(Error::invalid(format!(
                "open: log_level must be 0, 1 or 2, got {}",
                o.log_level
            )));
        }
        let btf = match &o.btf_path {
            Some(p) => Some(cstring("btf_path", &p.to_string_lossy())?),
            None => None,
        };
        let opts = ffi::coolbpf_open_opts {
            sz: std::mem::size_of::<ffi::coolbpf_open_opts>(),
            btf_path: btf.as_ref().map_or(ptr::null(), |c| c.as_ptr()),
            log_level: c_int::from(o.log_level),
            log_fd: o.log_fd.unwrap_or(-1),
        };
        // SAFETY: opts is a valid coolbpf_open_opts for the call's duration.
        let raw = unsafe { (lib.api().open)(&opts) };
        if raw.is_null() {
            return Err(Error::from_abi(lib.api(), -1));
        }
        Ok(Object {
            lib,
            raw,
            inner: Mutex::new(Inner {
                state: State::Opened,
                load_failed: false,
                autoload: Vec::new(),
                readers: Vec::new(),
            }),
        })
    }

    pub(crate) fn api(&self) -> &Api {
        self.lib.api()
    }

    pub(crate) fn raw(&self) -> *mut ffi::coolbpf {
        self.raw
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The lock, after checking the state allows `what`.
    pub(crate) fn require(
        &self,
        need: Need,
        what: &dyn fmt::Display,
    ) -> Result<MutexGuard<'_, Inner>> {
        let g = self.lock();
        if g.state == State::Destroyed {
            return Err(Error::new(
                EDESTROYED,
                format!("{what}: the object was destroyed"),
            ));
        }
        match need {
            Need::Opened if g.state != State::Opened => {
                return Err(Error::new(
                    ESTATE,
                    format!("{what}: the object is already {}; this is possible only between open() and load()", g.state),
                ))
            }
            Need::Opened | Need::Loaded if g.load_failed => {
                return Err(Error::new(ESTATE, format!("{what}: load() failed on this object; destroy() it and open a new one")))
            }
            Need::Loaded if g.state == State::Opened => {
                return Err(Error::new(ESTATE, format!("{what}: the object is not loaded yet; call load() first")))
            }
            _ => {}
        }
        Ok(g)
    }

    /// The failure the ABI just reported (`r` its negative return value).
    pub(crate) fn fail(&self, r: i64) -> Error {
        Error::from_abi(self.api(), r)
    }

    /// `Ok` when the object is in `state` (`Loaded` also accepts `Attached`);
    /// else `ESTATE`, or `EDESTROYED` after destroy.
    pub fn expect_state(&self, state: State) -> Result<()> {
        let need = match state {
            State::Opened => Need::Opened,
            State::Loaded | State::Attached => Need::Loaded,
            State::Destroyed => return Ok(()),
        };
        self.require(need, &format_args!("expected an object {state}"))
            .map(|_| ())
    }

    pub fn library(&self) -> &Arc<Library> {
        &self.lib
    }

    pub fn state(&self) -> State {
        self.lock().state
    }

    /// Before load: writes bytes at an offset of a data section's initial
    /// contents (".rodata", ".data", ".bss", ".data.foo", …).
    pub fn set_initial(&self, section: &str, offset: usize, bytes: &[u8]) -> Result<()> {
        let _g = self.require(Need::Opened, &format_args!("set_initial('{section}')"))?;
        let s = cstring("section", section)?;
        // SAFETY: a live object; bytes valid for its length.
        let r = unsafe {
            (self.api().set_initial)(
                self.raw,
                s.as_ptr(),
                offset,
                bytes.as_ptr().cast(),
                bytes.len(),
            )
        };
        if r < 0 {
            return Err(self.fail(r.into()));
        }
        Ok(())
    }

    /// Before load: whether a program is loaded at all (`SEC("?…")` programs default to off).
    pub fn set_autoload(&self, program: &str, on: bool) -> Result<()> {
        let mut g = self.require(Need::Opened, &format_args!("set_autoload('{program}')"))?;
        let p = cstring("program", program)?;
        // SAFETY: a live object.
        let r = unsafe { (self.api().set_autoload)(self.raw, p.as_ptr(), c_int::from(on)) };
        if r < 0 {
            return Err(self.fail(r.into()));
        }
        match g.autoload.iter_mut().find(|(n, _)| n == program) {
            Some(e) => e.1 = on,
            None => g.autoload.push((program.to_string(), on)),
        }
        Ok(())
    }

    /// What `set_autoload` last set for the program, if it was called.
    pub fn autoload_set(&self, program: &str) -> Option<bool> {
        self.lock()
            .autoload
            .iter()
            .find(|(n, _)| n == program)
            .map(|e| e.1)
    }

    /// Loads every program and creates every map (the verifier runs here). A
    /// verifier rejection is `EACCES` (or `EINVAL`) naming the program, with
    /// the log's tail in the message. A failed load cannot be retried:
    /// destroy the object and open a new one.
    pub fn load(&self) -> Result<()> {
        let mut g = self.require(Need::Opened, &"load()")?;
        // SAFETY: a live object.
        let r = unsafe { (self.api().load)(self.raw) };
        if r < 0 {
            g.load_failed = true;
            return Err(self.fail(r.into()));
        }
        g.state = State::Loaded;
        Ok(())
    }

    /// Attaches every auto-attachable program (the ones whose SEC() names a
    /// target). A failed attach leaves the object loaded (and can be retried).
    pub fn attach(&self) -> Result<()> {
        let mut g = self.require(Need::Loaded, &"attach()")?;
        if g.state == State::Attached {
            return Err(Error::new(
                ESTATE,
                "attach(): the object's programs are already attached",
            ));
        }
        // SAFETY: a live, loaded object.
        let r = unsafe { (self.api().attach)(self.raw) };
        if r < 0 {
            return Err(self.fail(r.into()));
        }
        g.state = State::Attached;
        Ok(())
    }

    fn link(
        &self,
        what: String,
        call: impl FnOnce(&Api, *mut ffi::coolbpf) -> c_int,
    ) -> Result<Link<'_>> {
        let _g = self.require(Need::Loaded, &what)?;
        let r = call(self.api(), self.raw);
        if r < 0 {
            return Err(self.fail(r.into()));
        }
        Ok(Link {
            object: self,
            id: r,
            attached: true,
            description: what,
        })
    }

    /// Attaches a uprobe (or uretprobe) program to a function of an
    /// executable or library.
    pub fn attach_uprobe(&self, program: &str, target: &UprobeTarget<'_>) -> Result<Link<'_>> {
        let p = cstring("program", program)?;
        let bin = cstring("binary", target.binary)?;
        let sym = target.symbol.map(|s| cstring("symbol", s)).transpose()?;
        let what = format!(
            "attach_uprobe('{program}') → {} {}:{}+{}",
            if target.retprobe {
                "uretprobe"
            } else {
                "uprobe"
            },
            target.binary,
            target.symbol.unwrap_or(""),
            target.offset
        );
        self.link(what, |api, c| unsafe {
            // SAFETY: NUL-terminated strings alive for the call.
            (api.attach_uprobe)(
                c,
                p.as_ptr(),
                bin.as_ptr(),
                sym.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                target.offset,
                target.pid.unwrap_or(-1),
                c_int::from(target.retprobe),
            )
        })
    }

    /// Attaches a kprobe (or kretprobe) program to a kernel function.
    pub fn attach_kprobe(
        &self,
        program: &str,
        function: &str,
        offset: u64,
        retprobe: bool,
    ) -> Result<Link<'_>> {
        let p = cstring("program", program)?;
        let f = cstring("function", function)?;
        let what = format!(
            "attach_kprobe('{program}') → {} {function}+{offset}",
            if retprobe { "kretprobe" } else { "kprobe" }
        );
        // SAFETY: NUL-terminated strings alive for the call.
        self.link(what, |api, c| unsafe {
            (api.attach_kprobe)(c, p.as_ptr(), f.as_ptr(), offset, c_int::from(retprobe))
        })
    }

    /// Attaches a program to a tracepoint (`category/name`, as in tracefs).
    pub fn attach_tracepoint(&self, program: &str, category: &str, name: &str) -> Result<Link<'_>> {
        let p = cstring("program", program)?;
        let cat = cstring("category", category)?;
        let n = cstring("name", name)?;
        let what = format!("attach_tracepoint('{program}') → {category}/{name}");
        // SAFETY: NUL-terminated strings alive for the call.
        self.link(what, |api, c| unsafe {
            (api.attach_tracepoint)(c, p.as_ptr(), cat.as_ptr(), n.as_ptr())
        })
    }

    pub fn attach_raw_tracepoint(&self, program: &str, name: &str) -> Result<Link<'_>> {
        let p = cstring("program", program)?;
        let n = cstring("name", name)?;
        let what = format!("attach_raw_tracepoint('{program}') → {name}");
        // SAFETY: NUL-terminated strings alive for the call.
        self.link(what, |api, c| unsafe {
            (api.attach_raw_tracepoint)(c, p.as_ptr(), n.as_ptr())
        })
    }

    /// XDP on an interface (`XDP_FLAGS_*` in flags).
    pub fn attach_xdp(&self, program: &str, ifindex: i32, flags: u32) -> Result<Link<'_>> {
        let p = cstring("program", program)?;
        let what = format!("attach_xdp('{program}') → ifindex {ifindex}");
        // SAFETY: a NUL-terminated string alive for the call.
        self.link(what, |api, c| unsafe {
            (api.attach_xdp)(c, p.as_ptr(), ifindex, flags)
        })
    }

    /// tc (tcx) on an interface, ingress or egress.
    pub fn attach_tc(
        &self,
        program: &str,
        ifindex: i32,
        direction: TcDirection,
    ) -> Result<Link<'_>> {
        let p = cstring("program", program)?;
        let what = format!("attach_tc('{program}') → {direction:?} ifindex {ifindex}");
        let egress = c_int::from(direction == TcDirection::Egress);
        // SAFETY: a NUL-terminated string alive for the call.
        self.link(what, |api, c| unsafe {
            (api.attach_tc)(c, p.as_ptr(), ifindex, egress)
        })
    }

    /// A cgroup program on a cgroup v2 directory.
    pub fn attach_cgroup(&self, program: &str, cgroup_path: &str) -> Result<Link<'_>> {
        let p = cstring("program", program)?;
        let path = cstring("cgroup path", cgroup_path)?;
        let what = format!("attach_cgroup('{program}') → {cgroup_path}");
        // SAFETY: NUL-terminated strings alive for the call.
        self.link(what, |api, c| unsafe {
            (api.attach_cgroup)(c, p.as_ptr(), path.as_ptr())
        })
    }

    /// A perf_event program on a perf event fd the caller opened.
    pub fn attach_perf_event(&self, program: &str, perf_event_fd: RawFd) -> Result<Link<'_>> {
        let p = cstring("program", program)?;
        let what = format!("attach_perf_event('{program}') → perf event fd {perf_event_fd}");
        // SAFETY: a NUL-terminated string alive for the call.
        self.link(what, |api, c| unsafe {
            (api.attach_perf_event)(c, p.as_ptr(), perf_event_fd)
        })
    }

    /// A data section's bytes, read-only: before load its initial image,
    /// after load the live memory-mapped map.
    pub fn section(&self, name: &str) -> Result<Section<'_, ReadOnly>> {
        self.section_at(name, false)
    }

    /// A data section's bytes, writable: before load its initial image (a
    /// write equals `set_initial`), after load the live map of `.data`,
    /// `.bss` and custom sections. `.rodata` after load is `ESTATE` (the
    /// kernel froze it: set it before load).
    pub fn section_mut(&self, name: &str) -> Result<Section<'_, ReadWrite>> {
        self.section_at(name, true)
    }

    fn section_at<A>(&self, name: &str, writable: bool) -> Result<Section<'_, A>> {
        let g = self.require(Need::Alive, &format_args!("section('{name}')"))?;
        let n = cstring("section", name)?;
        if writable && g.state != State::Opened && self.read_only_after_load(&n) {
            return Err(Error::new(
                ESTATE,
                format!("section('{name}'): {name} is read-only after load (the kernel froze it); set it before load()"),
            ));
        }
        let mut size = 0usize;
        // SAFETY: a live object; size is written on success.
        let p = unsafe { (self.api().data)(self.raw, n.as_ptr(), &mut size) };
        if p.is_null() {
            return Err(self.fail(-1));
        }
        // SAFETY: the ABI gives size bytes at p, mapped until destroy (which
        // needs &mut self, so not while this view borrows the object).
        Ok(unsafe { Section::new(p.cast(), size, name) })
    }

    fn read_only_after_load(&self, section: &CStr) -> bool {
        const BPF_F_RDONLY_PROG: u32 = 1 << 7;
        let mut info = ffi::coolbpf_map_info::default();
        // SAFETY: a live object.
        let r = unsafe { (self.api().map_info)(self.raw, section.as_ptr(), &mut info) };
        r == 0 && info.flags & BPF_F_RDONLY_PROG != 0
    }

    /// A map by name (after load).
    pub fn map(&self, name: &str) -> Result<RawMap<'_>> {
        RawMap::new(self, cstring("map", name)?.into())
    }

    /// A map by name known at compile time (what generated code uses).
    pub fn map_static(&self, name: &'static CStr) -> Result<RawMap<'_>> {
        RawMap::new(self, name.into())
    }

    /// The reader of a ring buffer or perf event array (after load): one per
    /// map, made on first use (perf buffers with 64 pages per CPU).
    pub fn events(&self, map: &str) -> Result<&EventReader> {
        self.events_with(map, 0)
    }

    /// As `events`, with `perf_pages` pages per CPU (a power of two; 0 for
    /// 64) for a perf event array's buffers, when this call opens it.
    pub fn events_with(&self, map: &str, perf_pages: usize) -> Result<&EventReader> {
        let mut g = self.require(Need::Loaded, &format_args!("events('{map}')"))?;
        if perf_pages != 0 && !perf_pages.is_power_of_two() {
            return Err(Error::invalid(format!(
                "events('{map}'): perf_pages must be a power of two (or 0 for the default), got {perf_pages}"
            )));
        }
        if let Some(r) = g.readers.iter().find(|r| r.map() == map) {
            let p: *const EventReader = &**r;
            // SAFETY: readers are boxed (their address does not move) and
            // dropped only by destroy(&mut self) or Drop, never while &self
            // is borrowed.
            return Ok(unsafe { &*p });
        }
        let m = cstring("map", map)?;
        // SAFETY: a live, loaded object.
        let e = unsafe { (self.api().events_open)(self.raw, m.as_ptr(), perf_pages) };
        if e.is_null() {
            return Err(self.fail(-1));
        }
        // SAFETY: e is a new reader of this object's library.
        let reader =
            Box::new(unsafe { EventReader::new(Arc::clone(&self.lib), e, map.to_string()) });
        let p: *const EventReader = &*reader;
        g.readers.push(reader);
        // SAFETY: as above.
        Ok(unsafe { &*p })
    }

    /// Detaches every program, closes every reader and unloads. Idempotent;
    /// every other call then fails with `EDESTROYED`. Drop does the same.
    pub fn destroy(&mut self) {
        let g = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        if g.state == State::Destroyed {
            return;
        }
        for r in g.readers.drain(..) {
            r.close();
        }
        g.state = State::Destroyed;
        // SAFETY: a live object, destroyed once; nothing borrows it (&mut self).
        unsafe { (self.lib.api().destroy)(self.raw) };
        self.raw = ptr::null_mut();
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        self.destroy();
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("library", &self.lib.path())
            .field("state", &self.state())
            .finish()
    }
}

/// A uprobe's target.
#[derive(Clone, Copy, Debug, Default)]
pub struct UprobeTarget<'a> {
    /// the executable or library (a path; libbpf also searches PATH and the library path for a bare name)
    pub binary: &'a str,
    /// a function's symbol in it; None: `offset` alone is the address
    pub symbol: Option<&'a str>,
    /// added to the symbol's address (or the address itself)
    pub offset: u64,
    /// only this process; None: every process
    pub pid: Option<i32>,
    /// on return instead of entry
    pub retprobe: bool,
}

/// tc's direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcDirection {
    Ingress,
    Egress,
}

/// An explicit attachment. `detach()` (or drop) removes it; the object's
/// `destroy()` releases it too. `keep()` leaves it attached until then.
#[must_use = "a Link detaches its program when dropped: keep it, or call keep()"]
pub struct Link<'a> {
    object: &'a Object,
    id: c_int,
    attached: bool,
    description: String,
}

impl Link<'_> {
    /// What is attached where, for messages.
    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn is_attached(&self) -> bool {
        self.attached
    }

    /// Detaches the program. Idempotent.
    pub fn detach(&mut self) -> Result<()> {
        if !self.attached {
            return Ok(());
        }
        self.attached = false;
        let g = self.object.lock();
        if g.state == State::Destroyed {
            return Ok(());
        }
        // SAFETY: a live object; the id came from one of its attach calls.
        let r = unsafe { (self.object.api().detach)(self.object.raw, self.id) };
        drop(g);
        if r < 0 {
            return Err(self.object.fail(r.into()));
        }
        Ok(())
    }

    /// Leaves the program attached until the object is destroyed.
    pub fn keep(mut self) {
        self.attached = false;
    }
}

impl Drop for Link<'_> {
    fn drop(&mut self) {
        let _ = self.detach();
    }
}

impl fmt::Debug for Link<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("description", &self.description)
            .field("attached", &self.attached)
            .finish()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Object>();
    let _: *const c_char = ptr::null();
}
