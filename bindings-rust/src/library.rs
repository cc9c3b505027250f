//! Loading a bpf.so: by path (one `Library` per file), or from bytes a
//! generated crate embeds (written to a memfd and loaded from there), and
//! checking that it is the one the code was generated for.

use std::ffi::{c_void, CStr, CString};
use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result, EMISMATCH};
use crate::ffi::{self, Api};
use crate::object::{Object, OpenOptions};

/// The ABI version (`COOLBPF_ABI_VERSION` of `coolbpf.h`) this runtime speaks.
pub const ABI_VERSION: u32 = 1;

/// What generated code expects of its bpf.so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    pub abi_version: u32,
    /// SHA-256 of the object, 64 lowercase hex digits
    pub sha256: &'static str,
}

/// A loaded bpf.so. It stays loaded for the life of the process (never
/// `dlclose()`d): a file rebuilt in place is not picked up by a running
/// process, and the SHA-256 check says so.
pub struct Library {
    api: Api,
    path: String,
    abi_version: u32,
    sha256: String,
    cpus: OnceLock<usize>,
}

// The ABI's functions are plain C functions; errors are thread-local.
unsafe impl Send for Library {}
unsafe impl Sync for Library {}

static LOADED: Mutex<Vec<(String, Arc<Library>)>> = Mutex::new(Vec::new());

fn cached(key: &str) -> Option<Arc<Library>> {
    let l = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    l.iter()
        .find(|(k, _)| k == key)
        .map(|(_, lib)| Arc::clone(lib))
}

fn remember(key: String, lib: Library) -> Arc<Library> {
    let mut l = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, known)) = l.iter().find(|(k, _)| *k == key) {
        return Arc::clone(known);
    }
    let lib = Arc::new(lib);
    l.push((key, Arc::clone(&lib)));
    lib
}

impl Library {
    /// Loads the bpf.so at `path` (the same file again, by any path that
    /// resolves to it, gives the same `Library`) and checks it against
    /// `expected`: another ABI version or object SHA-256 is `EMISMATCH`
    /// naming both and the path. A missing file is `ENOENT`, a file
    /// `dlopen()` refuses `ELIBBAD` with the loader's reason.
    pub fn load(path: impl AsRef<Path>, expected: Option<&Expected>) -> Result<Arc<Library>> {
        let path = path.as_ref();
        let real = std::fs::canonicalize(path).map_err(|e| {
            let errno = e.raw_os_error().unwrap_or(2);
            let why = if errno == 2 {
                "no such file".to_string()
            } else {
                e.to_string()
            };
            Error::from_errno(errno, format!("load: '{}': {why}", path.display()))
        })?;
        let real = real.to_string_lossy().into_owned();
        let lib = match cached(&real) {
            Some(lib) => lib,
            None => remember(real.clone(), Library::dlopen(&real, &real)?),
        };
        lib.check(expected)?;
        Ok(lib)
    }

    /// Loads a bpf.so from bytes (a generated crate's `include_bytes!` copy):
    /// written once to a memfd named `name` and loaded from there, so it
    /// needs no file beside the program. Loaded once per process for the
    /// same bytes.
    pub fn load_embedded(
        name: &str,
        bytes: &'static [u8],
        expected: Option<&Expected>,
    ) -> Result<Arc<Library>> {
        let key = format!("embedded:{:p}:{}", bytes.as_ptr(), bytes.len());
        let lib = match cached(&key) {
            Some(lib) => lib,
            None => {
                let what = format!("the bpf.so embedded in {name}");
                let cname = CString::new(format!("coolbpf:{name}"))
                    .map_err(|_| Error::invalid("load_embedded: name has a NUL"))?;
                // SAFETY: a NUL-terminated name; the fd is owned by the File below.
                let fd = unsafe { ffi::memfd_create(cname.as_ptr(), ffi::MFD_CLOEXEC) };
                if fd < 0 {
                    let e = std::io::Error::last_os_error();
                    return Err(Error::from_errno(
                        e.raw_os_error().unwrap_or(0),
                        format!("load: {what}: memfd_create: {e}"),
                    ));
                }
                // SAFETY: fd is a new descriptor nothing else owns.
                let mut file = unsafe { File::from_raw_fd(fd) };
                file.write_all(bytes).map_err(|e| {
                    Error::from_errno(
                        e.raw_os_error().unwrap_or(0),
                        format!("load: {what}: writing the memfd: {e}"),
                    )
                })?;
                let lib = Library::dlopen(&format!("/proc/self/fd/{fd}"), &what)?;
                // The memfd stays open for the life of the process, as the library stays
                // loaded: the loader knows it by the name "/proc/self/fd/N", and would give
                // this library again for another one opened later under a reused N.
                std::mem::forget(file);
                remember(key, lib)
            }
        };
        lib.check(expected)?;
        Ok(lib)
    }

    fn dlopen(file: &str, shown: &str) -> Result<Library> {
        let c = CString::new(file)
            .map_err(|_| Error::invalid(format!("load: '{shown}': the path has a NUL")))?;
        // SAFETY: dlopen/dlerror with a NUL-terminated path.
        let handle = unsafe {
            ffi::dlerror();
            ffi::dlopen(c.as_ptr(), ffi::RTLD_NOW | ffi::RTLD_LOCAL)
        };
        if handle.is_null() {
            // SAFETY: dlerror returns NULL or a NUL-terminated string.
            let why = unsafe {
                let p = ffi::dlerror();
                if p.is_null() {
                    "dlopen failed".to_string()
                } else {
                    CStr::from_ptr(p).to_string_lossy().into_owned()
                }
            };
            return Err(Error::from_errno(
                80,
                format!("load: cannot load '{shown}': {why}"),
            ));
        }
        let not_coolbpf = |sym: &str| {
            Error::new(
                EMISMATCH,
                format!("load: '{shown}' is not a coolbpf bpf.so: it has no {sym}"),
            )
        };
        // SAFETY: the symbol, when present, is coolbpf.h's `uint32_t coolbpf_abi_version(void)`.
        let version = unsafe {
            let p = ffi::dlsym(handle, c"coolbpf_abi_version".as_ptr());
            if p.is_null() {
                return Err(not_coolbpf("coolbpf_abi_version"));
            }
            std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> u32>(p)()
        };
        if version != ABI_VERSION {
            return Err(Error::new(
                EMISMATCH,
                format!("load: '{shown}' has coolbpf ABI version {version}, this runtime supports {ABI_VERSION} (rebuild it with the matching coolbpf-gen)"),
            ));
        }
        // SAFETY: a coolbpf bpf.so of this ABI version has coolbpf.h's functions.
        let api = unsafe { Api::resolve(handle) }.map_err(not_coolbpf)?;
        // SAFETY: returns a static NUL-terminated string.
        let sha256 = unsafe { CStr::from_ptr((api.object_sha256)()) }
            .to_string_lossy()
            .into_owned();
        Ok(Library {
            api,
            path: shown.to_string(),
            abi_version: version,
            sha256,
            cpus: OnceLock::new(),
        })
    }

    fn check(&self, expected: Option<&Expected>) -> Result<()> {
        let Some(e) = expected else { return Ok(()) };
        if self.abi_version != e.abi_version {
            return Err(Error::new(
                EMISMATCH,
                format!(
                    "load: '{}' has coolbpf ABI version {}, expected {} (regenerate the code, or rebuild the bpf.so with the matching coolbpf-gen)",
                    self.path, self.abi_version, e.abi_version
                ),
            ));
        }
        if !self.sha256.eq_ignore_ascii_case(e.sha256) {
            return Err(Error::new(
                EMISMATCH,
                format!(
                    "load: '{}' embeds the object with SHA-256 {}, expected {} (the bpf.so was built from another object than the code was generated for)",
                    self.path, self.sha256, e.sha256
                ),
            ));
        }
        Ok(())
    }

    /// Opens the embedded object: nothing is in the kernel until load().
    pub fn open(self: &Arc<Self>, options: &OpenOptions) -> Result<Object> {
        Object::open(Arc::clone(self), options)
    }

    /// The bpf.so's canonical path (or what the embedded copy is called).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn abi_version(&self) -> u32 {
        self.abi_version
    }

    /// SHA-256 of the embedded object, 64 lowercase hex digits.
    pub fn object_sha256(&self) -> &str {
        &self.sha256
    }

    /// The number of possible CPUs: the length of every per-CPU value.
    pub fn possible_cpus(&self) -> Result<usize> {
        if let Some(&n) = self.cpus.get() {
            return Ok(n);
        }
        // SAFETY: no arguments.
        let n = unsafe { (self.api.num_possible_cpus)() };
        if n <= 0 {
            return Err(Error::from_abi(&self.api, i64::from(n)));
        }
        Ok(*self.cpus.get_or_init(|| n as usize))
    }

    pub(crate) fn api(&self) -> &Api {
        &self.api
    }
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("path", &self.path)
            .field("abi_version", &self.abi_version)
            .field("sha256", &self.sha256)
            .finish()
    }
}
