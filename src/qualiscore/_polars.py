"""Polars, imported after capping glibc's malloc arenas.

Why: every thread Polars starts that calls the C allocator gets its own glibc arena, and
each arena reserves 64 MiB of address space up front. A tiny query on two cores reserves
about 1 GiB that it never uses, so under an address-space limit (``ulimit -v``, batch
schedulers) an allocation fails and the Rust runtime aborts the process with no message.
Two arenas keep the reservation near 250 MiB; Polars' own data lives in its own allocator,
so the cap costs no measurable speed.

Import ``pl`` from here, never ``polars`` directly: ``from qualiscore._polars import pl``.
"""

from __future__ import annotations

import contextlib
import ctypes
import platform

ARENA_MAX = 2
_M_ARENA_MAX = -8  # from glibc's malloc.h


def _cap_malloc_arenas() -> None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    with contextlib.suppress(OSError, AttributeError):  # no mallopt to call: nothing to cap
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, ARENA_MAX)


_cap_malloc_arenas()

import polars as pl  # noqa: E402  (after the cap, which only affects arenas created later)

__all__ = ["pl"]
