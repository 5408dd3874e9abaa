"""A zip in which every byte is accounted for: how `.kitsync` bundles are written and read.

A bundle travels on USB sticks and flaky links, so the reader must notice any damage, not only
damage that happens to hit the signed manifest or a member's content. `ZipWriter` emits one
canonical layout: members back to back, fixed dates and attributes, no flags, extra fields or
comments; small members stored, large ones deflated. `open_members` parses the directory with
`zipfile`, then compares every header byte with that layout; `inflate` reads a member itself and
insists its stream ends exactly where the member ends, with the right length and CRC. What is
left, the content and (for deflated members) the packed bytes, the caller checks against the
signed manifest's sha256 of each: deflate streams can differ by a bit and inflate to the same
text, so the packed bytes are hashed too. Any changed byte is then refused.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

from ..core.errors import BundleError

FIXED_ATTR = 0o100644 << 16      # a regular file, rw-r--r--
UNIX = 3
ZIP_VERSION = 20                 # "2.0": deflate, no zip64
DOS_DATE = 1 << 5 | 1            # 1980-01-01, the zip epoch; time 00:00
STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
CENTRAL_ENTRY = struct.Struct("<4s4B4HL2L5H2L")
EOCD = struct.Struct("<4s4H2LH")
READ_BLOCK = 1 << 20
MAX_ZIP = 0xFFFFFFFF             # no zip64: a bundle stays under 4 GB (the exporter splits before)


@dataclass(frozen=True)
class Member:
    name: str
    method: int          # STORED or DEFLATED
    size: int            # content bytes
    packed: int          # bytes in the file
    crc: int
    data_offset: int     # where its data starts in the file


def local_header(m: Member) -> bytes:
    name = m.name.encode("ascii")
    return LOCAL_HEADER.pack(b"PK\x03\x04", ZIP_VERSION, 0, 0, m.method, 0, DOS_DATE,
                             m.crc, m.packed, m.size, len(name), 0) + name


def central_entry(m: Member, header_offset: int) -> bytes:
    name = m.name.encode("ascii")
    return CENTRAL_ENTRY.pack(b"PK\x01\x02", ZIP_VERSION, UNIX, ZIP_VERSION, 0, 0, m.method, 0, DOS_DATE,
                              m.crc, m.packed, m.size, len(name), 0, 0, 0, 0, FIXED_ATTR, header_offset) + name


def end_record(count: int, directory_size: int, directory_offset: int) -> bytes:
    return EOCD.pack(b"PK\x05\x06", 0, 0, count, count, directory_size, directory_offset, 0)


class ZipWriter:
    """Writes the canonical layout to a file opened for writing (nothing else may write to it)."""

    def __init__(self, f: BinaryIO):
        self.f, self.offset, self.entries = f, 0, []

    def add(self, name: str, data: bytes, deflate: bool = True, level: int = 6) -> str:
        """Write one member; returns the sha256 of the bytes as packed in the file."""
        if deflate:
            packer = zlib.compressobj(level, zlib.DEFLATED, -15)
            packed = packer.compress(data) + packer.flush()
        else:
            packed = data
        member = Member(name, DEFLATED if deflate else STORED, len(data), len(packed), zlib.crc32(data), 0)
        header = local_header(member)
        if self.offset + len(header) + len(packed) > MAX_ZIP:
            raise BundleError("the bundle would exceed 4 GB; export in several parts (--since)")
        self.entries.append((member, self.offset))
        self.f.write(header)
        self.f.write(packed)
        self.offset += len(header) + len(packed)
        return hashlib.sha256(packed).hexdigest()

    def close(self) -> None:
        directory = b"".join(central_entry(m, at) for m, at in self.entries)
        self.f.write(directory + end_record(len(self.entries), len(directory), self.offset))


def open_members(f: BinaryIO, file_size: int, allowed: Callable[[str], bool], max_members: int,
                 max_size: int, max_ratio: int) -> "dict[str, Member]":
    """Check the whole layout of the zip in `f` and list its members, in file order.
    `allowed(name)` says which names may appear at all. Raises BundleError on anything odd."""
    try:
        infos = zipfile.ZipFile(f).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, ValueError, EOFError,
            OverflowError, IndexError, struct.error) as e:  # UnicodeDecodeError is a ValueError
        raise BundleError(f"not a readable zip ({e})") from None
    if not infos or len(infos) > max_members:
        raise BundleError(f"the zip has {len(infos)} members; expected 3 to {max_members}")
    members: dict[str, Member] = {}
    offset = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        name = info.filename
        if not allowed(name):
            raise BundleError(f"unexpected member {name!r} in the zip")
        if name in members:
            raise BundleError(f"member {name!r} appears twice in the zip")
        if info.compress_type not in (STORED, DEFLATED):
            raise BundleError(f"member {name} uses an unknown compression")
        if info.file_size > max_size:
            raise BundleError(f"member {name} is {info.file_size} bytes; the limit is {max_size}")
        if info.file_size > max_ratio * max(info.compress_size, 1) + 1024:
            raise BundleError(f"member {name} inflates more than {max_ratio}x (a zip bomb?)")
        if info.header_offset != offset:
            raise BundleError(f"member {name} is not where the zip says (extra bytes in the file)")
        member = Member(name, info.compress_type, info.file_size, info.compress_size, info.CRC, 0)
        header = local_header(member)
        f.seek(offset)
        if f.read(len(header)) != header:
            raise BundleError(f"member {name}: its header differs from the zip directory (damaged?)")
        members[name] = Member(name, member.method, member.size, member.packed, member.crc, offset + len(header))
        offset += len(header) + member.packed
    check_directory(f, file_size, offset, members)
    return members


def check_directory(f: BinaryIO, file_size: int, directory_offset: int, members: "dict[str, Member]") -> None:
    """The central directory and end record, byte for byte as the writer makes them (zipfile
    tolerates some damage there, e.g. a name length pointing past the directory's end)."""
    directory = b"".join(central_entry(m, m.data_offset - len(local_header(m))) for m in members.values())
    expected = directory + end_record(len(members), len(directory), directory_offset)
    if file_size != directory_offset + len(expected):
        raise BundleError("the zip's size does not match its directory (truncated or extra bytes)")
    f.seek(directory_offset)
    if f.read(len(expected)) != expected:
        raise BundleError("the zip's directory is damaged")


def raw_blocks(f: BinaryIO, member: Member) -> Iterator[bytes]:
    f.seek(member.data_offset)
    left = member.packed
    while left:
        raw = f.read(min(READ_BLOCK, left))
        if not raw:
            raise BundleError(f"member {member.name} is truncated")
        left -= len(raw)
        yield raw


def inflate(f: BinaryIO, member: Member, packed_digest: "hashlib._Hash | None" = None) -> Iterator[bytes]:
    """The member's content in blocks, checked: a deflate stream must end exactly at the
    member's end, and size and CRC must match the directory. `packed_digest`, if given, is fed
    the bytes as they are in the file."""
    inflater = zlib.decompressobj(-15) if member.method == DEFLATED else None
    size = crc = 0
    try:
        for raw in raw_blocks(f, member):
            if packed_digest is not None:
                packed_digest.update(raw)
            block = raw if inflater is None else inflater.decompress(raw, member.size - size + 1)
            if (inflater is not None and inflater.unconsumed_tail) or size + len(block) > member.size:
                raise BundleError(f"member {member.name} inflates past its declared size")
            size += len(block)
            crc = zlib.crc32(block, crc)
            yield block
        ended = inflater is None or (inflater.eof and not inflater.unused_data and not inflater.flush())
    except zlib.error as e:
        raise BundleError(f"member {member.name} does not decompress cleanly ({e})") from None
    if not ended or size != member.size or crc != member.crc:
        raise BundleError(f"member {member.name} is damaged (its length or checksum is wrong)")


def read_member(f: BinaryIO, member: Member, packed_digest: "hashlib._Hash | None" = None) -> bytes:
    return b"".join(inflate(f, member, packed_digest))


def hash_packed(f: BinaryIO, member: Member) -> str:
    """sha256 of the member's bytes as they lie in the file."""
    digest = hashlib.sha256()
    for raw in raw_blocks(f, member):
        digest.update(raw)
    return digest.hexdigest()
