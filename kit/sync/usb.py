"""A coordinator's visit in one step: the USB stick carries progress out and content in.

On the stick, everything lives under `kit/`: bundles (`*.kitsync`, named for the people who
carry them, e.g. `ecole-tamda-to-district-hub-2024-05-02-1.kitsync`) next to each other, and
content packs in `kit/packs/` (or `packs/` at the stick's root). A visit imports the bundles
whose envelopes or manifests address them to this server, whatever their file names, installs
packs newer than the installed ones, then writes this server's own bundles, each sealed to its
recipient (kit.sync.seal): a school's new events for its hub, or, on a hub, one bundle per
enrolled school with what that school neither holds nor was sent (by stick or over HTTP).
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..core.errors import BundleError, KitError, SyncError
from ..core.instance import Instance
from ..core.keys import trusted_keys
from ..core.regularfiles import open_regular, real_folder
from . import peers, seal
from .bundle import (MAX_BUNDLE, SUFFIX, ExportReport, ImportReport, export_for, import_bundle, open_layout, parse_manifest,
                     read_signed_manifest)

MOUNT_PATTERNS = ("/media/*", "/media/*/*", "/run/media/*/*")
# <id>-<version>.kitpack exactly as `kit pack build` names it (a course id, a semantic
# version): a name that is anything else is never used to build a path.
PACK_FILE = re.compile(r"(?P<id>[a-z0-9][a-z0-9-]{0,63})-(?P<version>(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*))"
                       r"\.kitpack")


@dataclass
class UsbReport:
    stick: Path
    imported: list[ImportReport] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)   # (file, reason)
    packs: list[tuple[str, str]] = field(default_factory=list)     # (file, what happened)
    exported: list[ExportReport] = field(default_factory=list)
    role: str = "school"
    peers: int = 0       # the servers this visit writes for: a school's hubs, a hub's schools

    def nobody_to_write_for(self) -> "str | None":
        """Why nothing could be written, and what to do, when no peer is enrolled (a bundle is
        sealed to one server, so there is no bundle for anyone); None otherwise."""
        if self.peers:
            return None
        if self.role == "hub":
            return ("no school enrolled: nothing can be written for any school; enrol them first (`kit sync enrol "
                    "--new-code` gives a school a code; or by file: `kit sync enrol --help`)")
        return ("no hub enrolled: nothing can be written for anyone; enrol with your hub first (`kit sync enrol "
                "--hub URL --code CODE`; or by file: `kit sync enrol --help`)")


def find_stick(mounts: "tuple[str, ...]" = MOUNT_PATTERNS) -> Path:
    """The one mounted, writable USB stick, or a SyncError saying what to do."""
    found = sorted({Path(p) for pattern in mounts for p in glob.glob(pattern)
                    if os.path.ismount(p) and os.access(p, os.W_OK)})
    if len(found) == 1:
        return found[0]
    if not found:
        raise SyncError("no USB stick found under /media or /run/media; plug one in, or give its path")
    raise SyncError(f"several sticks are mounted ({', '.join(map(str, found))}); give the path of one")


def envelope(path: Path) -> "tuple[object, object] | None":
    """The (origin device id, destination) a bundle names, read only to sort the stick's files
    (the import verifies everything again): a sealed file's clear header names only its
    recipient (origin None); an unsealed one's manifest names both. None if it cannot be read.
    The zip's layout and the manifest's size are checked before a byte of it is read: a stick
    may carry a zip bomb. File names are never trusted for this: only people read them."""
    try:
        sealed = seal.envelope_of(path, MAX_BUNDLE)
        if sealed is not None:
            return None, sealed.to
        with open_regular(path, MAX_BUNDLE, BundleError) as f:
            manifest = parse_manifest(read_signed_manifest(f, open_layout(f))[0])
    except (OSError, BundleError):
        return None
    origin = manifest.get("origin")
    return (origin.get("device_id") if isinstance(origin, dict) else None), manifest.get("destination")


def visit(inst: Instance, stick: Path, install_pack: "Callable | None" = None,
          progress: "Callable[[int], None] | None" = None) -> UsbReport:
    """Import, install, export; each bundle and pack on its own, so one bad file stops nothing.
    The stick's folders are checked first, all of them: a `kit/` or `packs/` that is a link
    (out of the stick, or anywhere) stops the visit before anything is read or written."""
    folder = real_folder(stick, "kit", create=True, error=SyncError)
    pack_folders = [f for f in (real_folder(stick, "packs", error=SyncError),
                                real_folder(stick, "kit", "packs", error=SyncError)) if f]
    report = UsbReport(stick)
    import_from(inst, folder, report, progress)
    install_packs(inst, pack_folders, report, install_pack)
    export_to(inst, folder, report, progress)
    return report


def import_from(inst: Instance, folder: Path, report: UsbReport, progress) -> None:
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        found = envelope(path)  # None: unreadable, and the import says why
        if found and found[0] == inst.device_id:
            continue  # our own export from an earlier visit
        if found and isinstance(found[1], str) and found[1] != inst.device_id:
            continue  # for another server: leave it for that one
        try:
            report.imported.append(import_bundle(inst, path, progress))
        except BundleError as e:
            report.refused.append((path.name, str(e)))


def install_packs(inst: Instance, folders: list[Path], report: UsbReport, install_pack) -> None:
    from ..content.install import version_key  # content knows how its versions compare
    if install_pack is None:
        from ..content.install import install_pack
    installed = {pid: version for pid, version in inst.db.execute("SELECT id, version FROM packs")}
    for path in sorted(p for folder in folders if folder.is_dir() for p in folder.glob("*.kitpack")):
        m = PACK_FILE.fullmatch(path.name)
        if not m:
            report.packs.append((path.name, "skipped: not named <id>-<version>.kitpack"))
            continue
        if m["id"] in installed and version_key(m["version"]) <= version_key(installed[m["id"]]):
            continue
        try:
            result = install_pack(inst.data, inst.db, path)
            report.packs.append((path.name, f"{result.action} {result.pack_id} {result.version}"))
        except KitError as e:
            report.packs.append((path.name, f"refused: {e}"))


def export_to(inst: Instance, folder: Path, report: UsbReport, progress) -> None:
    """A school writes for each hub it enrolled; a hub for each enrolled school. A bundle is
    sealed to one server (kit.sync.seal): a school with no hub writes nothing (the report says
    so: UsbReport.nobody_to_write_for)."""
    report.role = peers.own_role(inst.db)
    if report.role == "hub":
        targets = [k["key_id"] for k in trusted_keys(inst.db) if k["role"] == "school"]
    else:
        targets = peers.enrolled_hubs(inst.db)
    report.peers = len(targets)
    for target in targets:
        result = export_for(inst, folder, target, progress=progress)
        if result.path:
            report.exported.append(result)
