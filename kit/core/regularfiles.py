"""Files and folders a USB stick or a command line hands the kit, taken as regular files only.

A stick is not trusted: a `kit/evil.kitsync` linked to /dev/zero, a FIFO that never yields a
byte, or a `kit/` folder linked elsewhere on the disk must be refused, not followed. So a file
is opened without following a link (O_NOFOLLOW), without waiting for a writer (O_NONBLOCK),
then checked by fstat: a regular file no larger than the caller's cap, or a one-line error of
the caller's kind. Folders on a stick are real directories under its root, never links, so
nothing read or written through them is outside the stick.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import KitError

SMALL_FILE = 64 << 10   # a key or an enrolment file: a few hundred bytes; more is not one

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
READ_FLAGS = (os.O_RDONLY | NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
              | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
CREATE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
                | getattr(os, "O_BINARY", 0))


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, in words a coordinator knows."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_regular(path: "str | Path", cap: int, error: "type[KitError]" = KitError) -> BinaryIO:
    """`path` opened for reading if it is a regular file of at most `cap` bytes; else `error`
    with one line saying what the path is and what to do. A link is refused, not followed; a
    device or a FIFO is never read (lstat first: even opening some devices acts on them)."""
    path = Path(path)
    try:
        before = os.lstat(path)
    except OSError as e:
        raise error(f"{path}: cannot read it ({e.strerror})") from None
    refuse_unless_regular(path, before, cap, error)
    try:
        fd = os.open(path, READ_FLAGS)
    except OSError as e:  # ELOOP: it became a link since lstat
        raise error(f"{path}: cannot read it ({e.strerror}); give the file itself") from None
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise error(f"{path}: it changed while being opened; copy it again and retry")
        refuse_unless_regular(path, now, cap, error)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_text(path: "str | Path", cap: int, error: "type[KitError]" = KitError) -> str:
    """The text of a small regular file (a key, an enrolment), read as open_regular allows."""
    with open_regular(path, cap, error) as f:
        return f.read(cap + 1).decode("utf-8", errors="replace")


def refuse_unless_regular(path: Path, st: os.stat_result, cap: int, error: "type[KitError]") -> None:
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: is {kind_of(st.st_mode)}, not a file; copy the file itself (links, devices "
                    "and pipes are refused)")
    if st.st_size > cap:
        raise error(f"{path}: {st.st_size:,} bytes is more than such a file may be ({cap:,}); "
                    "is it the right file?")


def create_new(path: "str | Path") -> BinaryIO:
    """A new file at `path` for writing, never through a link: whatever lay at that name (a
    temporary file left by a pulled stick, or a planted link) is removed first, and the file
    is created exclusively (OSError if that fails)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return os.fdopen(os.open(path, CREATE_FLAGS, 0o644), "wb")


def real_folder(root: Path, *parts: str, create: bool = False,
                error: "type[KitError]" = KitError) -> "Path | None":
    """root/parts... if each part is a real directory (made if `create`), None if one is
    missing (and not `create`); `error` if one is a link or not a folder. The root itself is
    the user's choice (a mount point, a path given): it is resolved once, then nothing under it
    is followed, so the folder returned is inside the root."""
    folder = Path(os.path.realpath(root))
    for part in parts:
        folder = folder / part
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            if not create:
                return None
            try:
                folder.mkdir()
                st = os.lstat(folder)
            except OSError as e:
                raise error(f"cannot write to {root} ({e.strerror}); is the stick read-only or full?") from None
        except OSError as e:
            raise error(f"{folder}: cannot read it ({e.strerror})") from None
        if not stat.S_ISDIR(st.st_mode):
            raise error(f"{folder} is {kind_of(st.st_mode)}, not a folder on {root}; remove it from the stick "
                        "and try again")
    return folder
