"""The world a preview was computed from, in digests, so an apply can tell when it changed.

Parts: `registry` (the bytes of index.json), `tree:<path>` for each folder the mutation moves,
deletes or makes an asset of (every file's name, size and mtime under it, and the content of
asset.json files), `file:<path>` for each file it reads or rewrites (its content), and
`source:<absolute path>` for a folder outside the project that `new` copies files from.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from packer.files.declaration import DECLARATION_FILE
from packer.files.project import Project
from packer.files.safe_read import read_regular
from packer.mutations.model import WorldFingerprint

ABSENT = "absent"


def _digest_file(path: Path) -> str:
    try:
        return hashlib.sha256(read_regular(path, follow_symlinks=False)).hexdigest()
    except FileNotFoundError:
        return ABSENT
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def _digest_tree(path: Path) -> str:
    try:
        top = path.lstat()
    except FileNotFoundError:
        return ABSENT
    except OSError as exc:
        return f"unreadable:{exc.errno}"
    digest = hashlib.sha256()
    if not path.is_dir() or path.is_symlink():
        digest.update(f"file {top.st_mode} {top.st_size} {top.st_mtime_ns}".encode())
        return digest.hexdigest()
    for folder, dirs, files in os.walk(path, followlinks=False):
        dirs.sort()
        rel_folder = Path(folder).relative_to(path).as_posix()
        digest.update(f"dir {rel_folder}\n".encode("utf-8", "surrogateescape"))
        for name in sorted(files):
            full = Path(folder) / name
            try:
                st = full.lstat()
                line = f"{name} {st.st_mode} {st.st_size} {st.st_mtime_ns}"
            except OSError as exc:
                line = f"{name} unreadable:{exc.errno}"
            if name == DECLARATION_FILE:
                line += " " + _digest_file(full)
            digest.update((line + "\n").encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def fingerprint(
    project: Project, *, trees: tuple[str, ...] = (), files: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
) -> WorldFingerprint:
    """Digest the registry, each tree and each file (relative to assets/) the mutation reads,
    and each folder outside the project it copies files from (`sources`, absolute)."""
    parts = {"registry": _digest_file(project.registry_path)}
    for folder in sorted(set(sources)):
        parts[f"source:{folder}"] = _digest_tree(Path(folder))
    for rel in sorted(set(trees)):
        parts[f"tree:{rel}"] = _digest_tree(project.assets_dir.joinpath(*rel.split("/")))
    for rel in sorted(set(files)):
        parts[f"file:{rel}"] = _digest_file(project.assets_dir.joinpath(*rel.split("/")))
    return WorldFingerprint(parts=parts)


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
