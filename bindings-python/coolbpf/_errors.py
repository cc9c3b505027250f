"""CoolbpfError: every failure of the runtime or of the bpf.so's ABI."""
from __future__ import annotations

import errno as _errno

# errno number -> name, from this platform's table, with the usual name where
# two share a number, and the kernel-internal ENOTSUPP (524) that BPF system
# calls can return.
_PREFERRED = {11: "EAGAIN", 35: "EDEADLK", 95: "EOPNOTSUPP", 524: "ENOTSUPP"}
_NAMES: dict[int, str] = dict(_errno.errorcode)
_NAMES.update(_PREFERRED)


def errno_name(err: int) -> str:
    """The name of a positive errno ('ENOENT' for 2); 'EUNKNOWN' when it has none."""
    return _NAMES.get(err, "EUNKNOWN")


class CoolbpfError(Exception):
    """A failure of the runtime or of the bpf.so.

    ``code`` is the errno name ('ENOENT', 'EPERM', 'EACCES', ...), or one of
    coolbpf's own: 'EMISMATCH' (a bpf.so of another object or ABI),
    'EDESTROYED' (the object was destroyed), 'ESTATE' (a call out of order).
    ``errno`` is the positive errno, 0 when the failure is not an OS error.
    The message is the ABI's whole description: its first line says what
    failed (naming the program, map or section); for a verifier rejection the
    tail of the verifier log follows on further lines, which ``detail`` holds
    alone.
    """

    code: str
    errno: int
    detail: str

    def __init__(self, message: str, code: str | None = None, errno: int = 0) -> None:
        super().__init__(message)
        self.errno = errno
        self.code = code if code is not None else errno_name(errno)
        nl = message.find("\n")
        self.detail = "" if nl < 0 else message[nl + 1 :]

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        first = self.message.split("\n", 1)[0]
        return f"CoolbpfError({self.code}: {first!r})"
