//! `Error`: every failure of the runtime or of the bpf.so's ABI.

use std::borrow::Cow;
use std::ffi::CStr;
use std::fmt;

use crate::ffi::Api;

/// The result of every fallible call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Code of an object used after `destroy()`.
pub const EDESTROYED: &str = "EDESTROYED";
/// Code of a call out of order (before load, after load, twice, …).
pub const ESTATE: &str = "ESTATE";
/// Code of a bpf.so that is not the one the code was generated for (another
/// ABI version or another object), or of types that do not match a map.
pub const EMISMATCH: &str = "EMISMATCH";

/// A failure: a `code` (the errno name such as `ENOENT`, or coolbpf's own
/// `EMISMATCH`, `ESTATE`, `EDESTROYED`), the `errno` (positive; 0 when the
/// failure is not an OS error) and the message.
///
/// The message's first line says what failed, naming the program, map or
/// section, the errno and the reason (the ABI's `coolbpf_last_error()`); for
/// a verifier rejection and other failures where libbpf warned, the verifier
/// log's tail follows on further lines ([`Error::detail`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    code: Cow<'static, str>,
    errno: i32,
    message: String,
}

impl Error {
    /// An error with a code of coolbpf's own (or an errno name) and no errno.
    pub fn new(code: &'static str, message: impl Into<String>) -> Error {
        Error {
            code: Cow::Borrowed(code),
            errno: 0,
            message: message.into(),
        }
    }

    /// An OS error: its code is the errno's name.
    pub fn from_errno(errno: i32, message: impl Into<String>) -> Error {
        Error {
            code: errno_name(errno),
            errno,
            message: message.into(),
        }
    }

    /// An `EINVAL` for a bad argument (not an OS error: errno 0).
    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error {
            code: Cow::Borrowed("EINVAL"),
            errno: 0,
            message: message.into(),
        }
    }

    /// The failure the ABI just reported on this thread (`ret` is the call's
    /// negative return value, used when the ABI recorded no errno).
    pub(crate) fn from_abi(api: &Api, ret: i64) -> Error {
        // SAFETY: the ABI's error functions take no arguments and return a
        // thread-local, NUL-terminated string and an int.
        let (mut errno, text) = unsafe {
            let p = (api.last_error)();
            let text = if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            };
            ((api.last_errno)(), text)
        };
        if errno == 0 && ret < 0 {
            errno = i32::try_from(-ret).unwrap_or(0);
        }
        let message = if text.is_empty() {
            format!(
                "coolbpf call failed: {} (errno {errno})",
                std::io::Error::from_raw_os_error(errno)
            )
        } else {
            text
        };
        Error::from_errno(errno, message)
    }

    /// `ENOENT`, `EPERM`, `EACCES`, …, or `EMISMATCH`, `ESTATE`, `EDESTROYED`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The positive errno; 0 when the failure is not an OS error.
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The whole message (what failed on the first line, details after it).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The lines of the message after the first: the verifier log's tail or
    /// libbpf's warnings ("" if none).
    pub fn detail(&self) -> &str {
        match self.message.find('\n') {
            Some(i) => &self.message[i + 1..],
            None => "",
        }
    }

    /// The same error with `context: ` in front of its message.
    pub fn context(mut self, context: impl fmt::Display) -> Error {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Error {{ code: {}, errno: {}, message: {:?} }}",
            self.code, self.errno, self.message
        )
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        if e.errno > 0 {
            std::io::Error::new(std::io::Error::from_raw_os_error(e.errno).kind(), e)
        } else {
            std::io::Error::other(e)
        }
    }
}

/// Linux errno names, and the kernel-internal `ENOTSUPP` (524) that BPF
/// system calls can return.
const ERRNO_NAMES: &[(i32, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (3, "ESRCH"),
    (4, "EINTR"),
    (5, "EIO"),
    (6, "ENXIO"),
    (7, "E2BIG"),
    (8, "ENOEXEC"),
    (9, "EBADF"),
    (10, "ECHILD"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (15, "ENOTBLK"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (18, "EXDEV"),
    (19, "ENODEV"),
    (20, "ENOTDIR"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (23, "ENFILE"),
    (24, "EMFILE"),
    (25, "ENOTTY"),
    (26, "ETXTBSY"),
    (27, "EFBIG"),
    (28, "ENOSPC"),
    (29, "ESPIPE"),
    (30, "EROFS"),
    (31, "EMLINK"),
    (32, "EPIPE"),
    (33, "EDOM"),
    (34, "ERANGE"),
    (35, "EDEADLK"),
    (36, "ENAMETOOLONG"),
    (37, "ENOLCK"),
    (38, "ENOSYS"),
    (39, "ENOTEMPTY"),
    (40, "ELOOP"),
    (42, "ENOMSG"),
    (43, "EIDRM"),
    (61, "ENODATA"),
    (62, "ETIME"),
    (67, "ENOLINK"),
    (71, "EPROTO"),
    (74, "EBADMSG"),
    (75, "EOVERFLOW"),
    (77, "EBADFD"),
    (79, "ELIBACC"),
    (80, "ELIBBAD"),
    (84, "EILSEQ"),
    (88, "ENOTSOCK"),
    (90, "EMSGSIZE"),
    (92, "ENOPROTOOPT"),
    (93, "EPROTONOSUPPORT"),
    (95, "EOPNOTSUPP"),
    (97, "EAFNOSUPPORT"),
    (98, "EADDRINUSE"),
    (99, "EADDRNOTAVAIL"),
    (100, "ENETDOWN"),
    (101, "ENETUNREACH"),
    (104, "ECONNRESET"),
    (105, "ENOBUFS"),
    (107, "ENOTCONN"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (113, "EHOSTUNREACH"),
    (114, "EALREADY"),
    (115, "EINPROGRESS"),
    (116, "ESTALE"),
    (122, "EDQUOT"),
    (125, "ECANCELED"),
    (126, "ENOKEY"),
    (127, "EKEYEXPIRED"),
    (128, "EKEYREVOKED"),
    (129, "EKEYREJECTED"),
    (524, "ENOTSUPP"),
];

/// The name of a positive errno (`ENOENT` for 2); `EUNKNOWN` when it has none.
pub fn errno_name(errno: i32) -> Cow<'static, str> {
    match ERRNO_NAMES.binary_search_by_key(&errno, |&(n, _)| n) {
        Ok(i) => Cow::Borrowed(ERRNO_NAMES[i].1),
        Err(_) => Cow::Borrowed("EUNKNOWN"),
    }
}
