"""Memory of a long-running `kit serve` on a small machine (docs/design.md: ≤ 80 MB on a 1 GB Pi).

glibc's malloc gives server threads arenas of their own and keeps what is freed in them; after
a large block is freed it also raises its mmap threshold, so later large blocks come from those
arenas and stay there. Signing in checks a PIN with argon2 in 4 MiB of memory, on whichever
server thread takes the request, so every thread ends up holding its own 4 MiB and more
(measured: 8 threads, 40 sign-ins: +35 MB that never went back). Fewer arenas and a fixed
1 MiB mmap threshold send such blocks back to the system as soon as they are freed.

Python's collector, for its part, re-scans every object the app made at start (modules,
templates, catalogs: some 75,000) at each full collection: a pause of 100 ms and more on one
core, every thousand or so requests, that every request then waiting shares. Those objects
live as long as the server: `freeze_startup` sets them aside once, before the first request.
"""

from __future__ import annotations

import ctypes
import gc

# mallopt() parameters, from glibc's malloc.h.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def tame_malloc(arenas: int = 2, mmap_threshold: int = 1 << 20) -> bool:
    """Tune glibc's malloc for a threaded server; call before the threads start. Returns
    whether it was applied (False where the C library is not glibc: nothing to do there)."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it, and only glibc's mallopt takes these
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_ARENA_MAX, arenas) == 1 and mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1


def freeze_startup() -> None:
    """Keep what exists now (the app, built and ready) out of every later garbage collection;
    call once, when the server has started and before it serves."""
    gc.collect()
    gc.freeze()
