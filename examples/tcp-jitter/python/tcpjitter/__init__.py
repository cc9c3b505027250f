"""tcp-jitter: finds applications that read TCP data late (see core for the library)."""
from .core import (
    Options,
    OptionError,
    SlowRead,
    format_addr,
    format_event,
    parse_options,
    render_histogram,
    slot_bounds,
)

__all__ = [
    "OptionError",
    "Options",
    "SlowRead",
    "format_addr",
    "format_event",
    "parse_options",
    "render_histogram",
    "slot_bounds",
]
