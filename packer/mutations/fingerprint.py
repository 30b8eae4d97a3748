"""The world a preview was computed from, in digests, so an apply can tell when it changed.

Parts: `registry` (the bytes of index.json), `tree:<path>` for each folder the mutation moves,
deletes or makes an asset of (every file's name, size and mtime under it; the content of
asset.json files and of files modified within the racy window, below; a link's target, never
what it points to), `file:<path>` for each file it reads or rewrites (its content), and
`source:<absolute path>` for a folder outside the project that `new` copies files from.

Size and mtime are hints, as in the build cache (packer/build/cache.py): a file written in the
same timestamp tick as the preview, or just before it, can be edited again without either
changing. Such a file (mtime within RACY_WINDOW_NS of the preview, or after it) is digested by
content too. The apply decides "racy" against the preview's moment (`as_of_ns`), not its own, so
both digests cover the same files.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

from packer.files.declaration import DECLARATION_FILE
from packer.files.project import Project
from packer.files.safe_read import read_regular
from packer.mutations.model import WorldFingerprint

ABSENT = "absent"
# The build cache's window (packer.build.cache.RACY_WINDOW_NS; build is a sibling layer).
RACY_WINDOW_NS = 2_000_000_000


def _digest_file(path: Path) -> str:
    try:
        return hashlib.sha256(read_regular(path, follow_symlinks=False)).hexdigest()
    except FileNotFoundError:
        return ABSENT
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def _digest_tree(path: Path, racy_from_ns: int) -> str:
    try:
        top = path.lstat()
    except FileNotFoundError:
        return ABSENT
    except OSError as exc:
        return f"unreadable:{exc.errno}"
    digest = hashlib.sha256()
    if not path.is_dir() or path.is_symlink():
        line = f"file {top.st_mode} {top.st_size} {top.st_mtime_ns}"
        if stat.S_ISREG(top.st_mode) and top.st_mtime_ns >= racy_from_ns:
            line += " " + _digest_file(path)
        digest.update(line.encode())
        return digest.hexdigest()
    for folder, dirs, files in os.walk(path, followlinks=False):
        dirs.sort()
        rel_folder = Path(folder).relative_to(path).as_posix()
        digest.update(f"dir {rel_folder}\n".encode("utf-8", "surrogateescape"))
        # A link to a folder is listed in `dirs` (never walked into): record the link itself.
        for name in [d for d in dirs if (Path(folder) / d).is_symlink()]:
            files.append(name)
        for name in sorted(files):
            full = Path(folder) / name
            try:
                st = full.lstat()
            except OSError as exc:
                digest.update(f"{name} unreadable:{exc.errno}\n".encode("utf-8", "surrogateescape"))
                continue
            line = f"{name} {st.st_mode} {st.st_size} {st.st_mtime_ns}"
            if stat.S_ISLNK(st.st_mode):
                line += " -> " + os.readlink(full)
            elif name == DECLARATION_FILE or (
                    stat.S_ISREG(st.st_mode) and st.st_mtime_ns >= racy_from_ns):
                line += " " + _digest_file(full)
            digest.update((line + "\n").encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def fingerprint(
    project: Project, *, trees: tuple[str, ...] = (), files: tuple[str, ...] = (),
    sources: tuple[str, ...] = (), as_of_ns: int | None = None,
) -> WorldFingerprint:
    """Digest the registry, each tree and each file (relative to assets/) the mutation reads,
    and each folder outside the project it copies files from (`sources`, absolute).

    `as_of_ns` is the moment racy files are judged against: now for a preview, the preview's
    `taken_at_ns` for its apply."""
    taken_at = time.time_ns() if as_of_ns is None else as_of_ns
    racy_from = taken_at - RACY_WINDOW_NS
    parts = {"registry": _digest_file(project.registry_path)}
    for folder in sorted(set(sources)):
        parts[f"source:{folder}"] = _digest_tree(Path(folder), racy_from)
    for rel in sorted(set(trees)):
        parts[f"tree:{rel}"] = _digest_tree(
            project.assets_dir.joinpath(*rel.split("/")), racy_from)
    for rel in sorted(set(files)):
        parts[f"file:{rel}"] = _digest_file(project.assets_dir.joinpath(*rel.split("/")))
    return WorldFingerprint(parts=parts, taken_at_ns=taken_at)


def describe_differences(names: list[str]) -> str:
    shown = []
    for name in names:
        if name == "registry":
            shown.append("the registry (assets/.prometeu/index.json)")
        elif name.startswith("source:"):
            shown.append(name.split(":", 1)[1])
        else:
            shown.append("assets/" + name.split(":", 1)[1])
    return ", ".join(shown)
