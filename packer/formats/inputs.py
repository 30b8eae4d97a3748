"""Reading a pipeline's input files safely, shared by every format.

Split of responsibilities with the scan: `packer.workspace.anchors.check_inputs` reports inputs that
escape the root, are missing, are not regular files or cannot be read (PK106/107/112/114). A
pipeline's `validate` skips those inputs silently (so doctor does not report them twice) and
reports only the format's own errors; `encode` is self-contained and raises with every problem,
input ones included, because the disk may have changed since validation.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, TypeVar

import xxhash

from packer.diagnostics import Diagnostic, diagnostic
from packer.files.declaration import DECLARATION_FILE, AssetDeclaration
from packer.files.paths import InsideRoot, UnsafePathError
from packer.files.safe_read import open_regular, read_to_end
from packer.formats import EncodedAsset, FormatError
from packer.lane.cancellation import CancellationToken

Converted = TypeVar("Converted")
_STEM_INDEX = re.compile(r"^(\d+)")


@dataclass
class Findings:
    """Diagnostics collected while checking one asset, tagged with its root and asset id."""

    root: str
    asset_id: int | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    input_problems: list[Diagnostic] = field(default_factory=list)  # PK106/107/112/114
    input_digests: dict[str, tuple[str, int]] = field(default_factory=dict)  # see EncodedAsset

    def add(
        self, code: str, message: str, *, file: str | None = None, fix: str | None = None
    ) -> None:
        self.diagnostics.append(diagnostic(
            code, message, root=self.root, file=file, asset_id=self.asset_id, fix=fix
        ))

    def add_declaration(self, code: str, message: str) -> None:
        self.add(code, message, file=DECLARATION_FILE)

    @property
    def ok(self) -> bool:
        return not self.diagnostics and not self.input_problems

    def all(self) -> list[Diagnostic]:
        return [*self.input_problems, *self.diagnostics]


def check_roles(
    decl: AssetDeclaration, allowed: tuple[str, ...], findings: Findings, fmt: str
) -> None:
    """An input role the format does not know is a schema error of asset.json (PK104)."""
    for role in decl.inputs:
        if role not in allowed:
            findings.add_declaration(
                "PK104",
                f"{findings.root}/asset.json: inputs.{role} is not an input of {fmt} "
                f"(expected {', '.join(allowed)})",
            )


def read_input(
    inside: InsideRoot, path: str, findings: Findings, token: CancellationToken
) -> bytes | None:
    """Read one input resolved inside its root; a problem becomes an input diagnostic and None."""
    root = findings.root

    def problem(code: str, message: str) -> None:
        findings.input_problems.append(diagnostic(
            code, f"{root}: {message}", root=root, file=path, asset_id=findings.asset_id
        ))

    try:
        target, status = inside.resolve_stat(path)
    except UnsafePathError as exc:
        problem("PK107", f"input {exc}")
        return None
    try:
        if status is None:
            status = os.stat(target)
        if not stat.S_ISREG(status.st_mode):  # never open a FIFO or device: it may block
            problem("PK114", f"input {path!r} is not a regular file")
            return None
        fd = open_regular(target)
        try:
            data = read_to_end(fd, status.st_size, between_chunks=token.raise_if_cancelled)
        finally:
            os.close(fd)
    except FileNotFoundError:
        problem("PK106", f"input {path!r} does not exist")
        return None
    except OSError as exc:
        problem("PK112", f"input {path!r} cannot be read: {exc.strerror or exc}")
        return None
    findings.input_digests[path] = (xxhash.xxh3_128_hexdigest(data), len(data))
    return data


def leading_index(path: str) -> int | None:
    """`tiles/007_wall.png` → 7; a file name without leading digits → None."""
    match = _STEM_INDEX.match(path.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else None


def stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name[1:] else name


def root_label(root_path: Path) -> str:
    """The root relative to `assets/` for messages, found from the `.prometeu` folder beside it.

    `encode` gets only the root's path; diagnostics still want the root as doctor names it.
    """
    for parent in root_path.parents:
        if (parent / ".prometeu").is_dir():
            return root_path.relative_to(parent).as_posix()
    return root_path.name


class ConvertingPipeline(Generic[Converted]):
    """A pipeline whose `validate` and `encode` share one conversion pass, so they cannot disagree.

    Subclasses give `_convert` (read and check the inputs, recording findings) and `_assemble`
    (lay out the payload from a clean conversion).
    """

    format_name: str
    format_version: int

    def _convert(
        self, decl: AssetDeclaration, inside: InsideRoot, findings: Findings,
        token: CancellationToken,
    ) -> Converted:
        raise NotImplementedError

    def _assemble(self, converted: Converted, token: CancellationToken) -> EncodedAsset:
        raise NotImplementedError

    def validate(
        self, decl: AssetDeclaration, root_path: Path, *, root: str, asset_id: int | None
    ) -> list[Diagnostic]:
        findings = Findings(root, asset_id)
        self._convert(decl, InsideRoot(root_path), findings, CancellationToken())
        return findings.diagnostics

    def encode(
        self, decl: AssetDeclaration, root_path: Path, token: CancellationToken, *,
        root: str | None = None, asset_id: int | None = None, inside: InsideRoot | None = None,
    ) -> EncodedAsset:
        """`inside`: the root already resolved, when the caller has it (InsideRoot.below from a
        resolved `assets/` costs an lstat per component of the root, not a realpath from `/`)."""
        findings = Findings(root if root is not None else root_label(root_path), asset_id)
        converted = self._convert(
            decl, inside if inside is not None else InsideRoot(root_path), findings, token)
        if not findings.ok:
            raise FormatError(findings.all())
        token.raise_if_cancelled()
        return replace(self._assemble(converted, token), input_digests=findings.input_digests)
