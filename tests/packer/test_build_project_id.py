"""The build's project_id: read without validating the registry again when the up-to-date
manifest shows it is the registry the last build validated; validated (and a broken one
reported) otherwise, as before. The fixtures' prometeu.json has an id of its own, distinct from
the registry's, so a fallback to it would show.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from packer.build import build, manifest_file, uptodate
from packer.build.check import PACKER_VERSION
from packer.build.runner import _pipeline_versions
from packer.files import registry, safe_read
from packer.files.project import Project
from packer.lane.cancellation import CancellationToken
from packer.lane.sinks import ListSink
from tests.packer.build_support import PROJECT_ID, add_glyph, add_raw, new_project


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", 0)  # files written before a build settled
    seen: list[bytes] = []
    real = registry.parse_registry

    def counted(raw: bytes, **kwargs: Any) -> registry.Registry:
        seen.append(raw)
        return real(raw, **kwargs)

    monkeypatch.setattr(registry, "parse_registry", counted)
    return seen


def built(tmp_path: Path) -> Project:
    project = new_project(tmp_path / "work")
    add_raw(project, "raw/a", b"alpha" * 100)
    add_glyph(project, "glyphs/font")
    assert project.file.project_id not in (None, PROJECT_ID)
    assert build(project).succeeded
    assert build(project).up_to_date  # checks its own outputs by content, once
    return project


def project_ids(project: Project) -> tuple[set[str], Any]:
    sink = ListSink()
    result = build(project, sink)
    return {event.project_id for event in sink.events}, result


def test_up_to_date_and_patch_builds_take_the_registry_id_without_validating_it(
    tmp_path: Path, validations: list[bytes]
) -> None:
    project = built(tmp_path)
    validations.clear()
    ids, result = project_ids(project)
    assert result.up_to_date and ids == {PROJECT_ID}
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    ids, result = project_ids(project)
    assert result.succeeded and not result.up_to_date and ids == {PROJECT_ID}
    assert validations == []


def test_a_registry_changed_since_the_last_build_is_validated(
    tmp_path: Path, validations: list[bytes]
) -> None:
    project = built(tmp_path)
    project.save_registry(project.load_registry())  # same content, a new file
    validations.clear()
    ids, result = project_ids(project)
    assert result.succeeded and ids == {PROJECT_ID}
    assert validations  # the id came from a validated registry


@pytest.mark.parametrize("racy", [True, False], ids=["racy", "settled"])
def test_a_registry_with_a_good_id_but_broken_entries_is_reported_as_before(
    tmp_path: Path, validations: list[bytes], monkeypatch: pytest.MonkeyPatch, racy: bool
) -> None:
    project = built(tmp_path)
    data = json.loads(project.registry_path.read_bytes())
    data["assets"][0]["asset_id"] = "one"  # the id is intact; an entry is not
    project.registry_path.write_text(json.dumps(data))
    if not racy:  # as if edited long after the last build: only its fingerprint tells
        monkeypatch.setattr(uptodate, "RACY_WINDOW_NS", -3600 * 10**9)
    ids, result = project_ids(project)
    assert [d.code for d in result.blocking] == ["PK003"]
    # As before: a registry that does not validate gives no id; prometeu.json's is used.
    assert ids == {project.file.project_id} == {project.project_id}


def test_a_manifest_replaced_after_the_early_read_is_read_again(
    tmp_path: Path, validations: list[bytes]
) -> None:
    project = built(tmp_path)
    early = manifest_file.load_early(project)
    (project.assets_dir / "raw/a/data.bin").write_bytes(b"beta")
    assert build(project).succeeded  # records a manifest the early read does not know
    found = uptodate.check(project, CancellationToken(), packer_version=PACKER_VERSION,
                           pipelines=_pipeline_versions(), preloaded=early)
    assert found is not None  # the early one lists data.bin as "alpha…": not up to date


def test_the_manifest_is_parsed_in_pieces_only_beside_other_threads(
    tmp_path: Path, validations: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = built(tmp_path)
    raw = manifest_file.manifest_path(project).read_bytes()
    pieces: list[int] = []
    real = safe_read.loads_in_pieces

    def counted(data: bytes | str) -> Any:
        pieces.append(len(data))
        return real(data)

    monkeypatch.setattr(safe_read, "loads_in_pieces", counted)
    with monkeypatch.context() as only_this_thread:  # a CLI build: nothing waits for the GIL
        only_this_thread.setattr(threading, "active_count", lambda: 1)
        alone = manifest_file.Manifest.from_bytes(raw)
    assert alone is not None and pieces == []
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        beside = manifest_file.Manifest.from_bytes(raw)  # e.g. the Studio's GUI thread
    finally:
        release.set()
        other.join()
    assert beside == alone and pieces == [len(raw)]
