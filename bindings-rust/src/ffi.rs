//! The C ABI of a bpf.so (`coolbpf.h`), resolved with `dlopen`/`dlsym`, and
//! the few libc calls the runtime makes. glibc has `dlopen` in libc itself
//! (2.34 and later), which every Rust program links.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_uint, c_void};

/// `struct coolbpf`: one opened (and later loaded) object.
#[repr(C)]
pub struct coolbpf {
    _opaque: [u8; 0],
}

/// `struct coolbpf_events`: a ring buffer or perf event array reader.
#[repr(C)]
pub struct coolbpf_events {
    _opaque: [u8; 0],
}

/// `struct coolbpf_open_opts`
#[repr(C)]
pub struct coolbpf_open_opts {
    pub sz: usize,
    pub btf_path: *const c_char,
    pub log_level: c_int,
    pub log_fd: c_int,
}

/// `struct coolbpf_map_info`
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct coolbpf_map_info {
    pub type_: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub flags: u32,
    pub fd: i32,
    pub per_cpu: u32,
    pub value_buffer_size: u32,
}

/// `struct pollfd`
#[repr(C)]
pub struct pollfd {
    pub fd: c_int,
    pub events: i16,
    pub revents: i16,
}

pub const RTLD_NOW: c_int = 2;
pub const RTLD_LOCAL: c_int = 0;
pub const MFD_CLOEXEC: c_uint = 1;
pub const EFD_CLOEXEC: c_int = 0o2000000;
pub const EFD_NONBLOCK: c_int = 0o4000;
pub const POLLIN: i16 = 1;

extern "C" {
    pub fn dlopen(filename: *const c_char, flag: c_int) -> *mut c_void;
    pub fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    pub fn dlerror() -> *mut c_char;
    pub fn memfd_create(name: *const c_char, flags: c_uint) -> c_int;
    pub fn eventfd(initval: c_uint, flags: c_int) -> c_int;
    pub fn poll(fds: *mut pollfd, nfds: u64, timeout: c_int) -> c_int;
}

macro_rules! abi {
    ($($name:ident : fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        /// Every `coolbpf_*` function of one bpf.so.
        #[allow(dead_code)]
        pub struct Api {
            $(pub $name: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
        }

        impl Api {
            /// Resolves every function; the name of the first one missing otherwise.
            ///
            /// # Safety
            /// `handle` must be a live `dlopen` handle of a coolbpf bpf.so (whose
            /// functions have the signatures of `coolbpf.h`).
            pub unsafe fn resolve(handle: *mut c_void) -> Result<Api, &'static str> {
                Ok(Api {
                    $($name: {
                        let sym = concat!("coolbpf_", stringify!($name), "\0");
                        let p = dlsym(handle, sym.as_ptr().cast());
                        if p.is_null() {
                            return Err(&sym[..sym.len() - 1]);
                        }
                        std::mem::transmute::<*mut c_void, unsafe extern "C" fn($($arg),*) $(-> $ret)?>(p)
                    },)*
                })
            }
        }
    };
}

abi! {
    abi_version: fn() -> u32;
    object_sha256: fn() -> *const c_char;
    object_data: fn(*mut usize) -> *const c_void;
    last_error: fn() -> *const c_char;
    last_errno: fn() -> c_int;
    open: fn(*const coolbpf_open_opts) -> *mut coolbpf;
    set_initial: fn(*mut coolbpf, *const c_char, usize, *const c_void, usize) -> c_int;
    set_autoload: fn(*mut coolbpf, *const c_char, c_int) -> c_int;
    load: fn(*mut coolbpf) -> c_int;
    attach: fn(*mut coolbpf) -> c_int;
    destroy: fn(*mut coolbpf);
    attach_uprobe: fn(*mut coolbpf, *const c_char, *const c_char, *const c_char, u64, c_int, c_int) -> c_int;
    attach_kprobe: fn(*mut coolbpf, *const c_char, *const c_char, u64, c_int) -> c_int;
    attach_tracepoint: fn(*mut coolbpf, *const c_char, *const c_char, *const c_char) -> c_int;
    attach_raw_tracepoint: fn(*mut coolbpf, *const c_char, *const c_char) -> c_int;
    attach_xdp: fn(*mut coolbpf, *const c_char, c_int, u32) -> c_int;
    attach_tc: fn(*mut coolbpf, *const c_char, c_int, c_int) -> c_int;
    attach_cgroup: fn(*mut coolbpf, *const c_char, *const c_char) -> c_int;
    attach_perf_event: fn(*mut coolbpf, *const c_char, c_int) -> c_int;
    detach: fn(*mut coolbpf, c_int) -> c_int;
    num_possible_cpus: fn() -> c_int;
    map_info: fn(*mut coolbpf, *const c_char, *mut coolbpf_map_info) -> c_int;
    map_fd: fn(*mut coolbpf, *const c_char) -> c_int;
    map_lookup: fn(*mut coolbpf, *const c_char, *const c_void, *mut c_void, usize, u64) -> c_int;
    map_update: fn(*mut coolbpf, *const c_char, *const c_void, *const c_void, usize, u64) -> c_int;
    map_delete: fn(*mut coolbpf, *const c_char, *const c_void) -> c_int;
    map_next_key: fn(*mut coolbpf, *const c_char, *const c_void, *mut c_void) -> c_int;
    map_lookup_batch: fn(*mut coolbpf, *const c_char, *const c_void, *mut c_void, *mut c_void, *mut c_void, *mut u32) -> c_int;
    data: fn(*mut coolbpf, *const c_char, *mut usize) -> *mut c_void;
    events_open: fn(*mut coolbpf, *const c_char, usize) -> *mut coolbpf_events;
    events_fd: fn(*mut coolbpf_events) -> c_int;
    events_read: fn(*mut coolbpf_events, *mut c_void, usize, c_int) -> i64;
    events_stats: fn(*mut coolbpf_events, *mut u64, *mut u64);
    events_close: fn(*mut coolbpf_events);
}
