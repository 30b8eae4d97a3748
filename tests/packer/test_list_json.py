"""`list --json` is encoded by pydantic in one call (json's indenting encoder is pure Python):
the text is exactly what json.dumps wrote, and what pydantic cannot encode still goes to json."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from packer.cli.common import CommandContext
from packer.cli.main import build_parser
from packer.doctor.queries import AssetListing, list_assets_report
from tests.packer.cli_support import Captured, run
from tests.packer.project_builder import make_project, write_asset


@pytest.mark.parametrize("name", ["héros_\u2028_\x01_\t_\"quoted\"_\\", "plain"])
def test_list_json_is_the_text_json_wrote(tmp_path: Path, capsys: Captured, name: str) -> None:
    project = make_project(tmp_path)
    write_asset(project, "ünïcode/root", name=name)
    write_asset(project, "other", register=False)
    code, out, _ = run(capsys, "list", "--json", str(project.root))
    assert code == 0
    data = list_assets_report(project).model_dump(mode="json")
    assert out == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert json.loads(out)["assets"][0]["name"] == name


def test_a_listing_pydantic_cannot_encode_falls_back_to_json(tmp_path: Path) -> None:
    listing = AssetListing(project_id="\ud800", assets=(), workspace_diagnostics=())
    fast, slow = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(["list", "--json", str(tmp_path)])
    CommandContext(args, stdout=fast, stderr=io.StringIO()).write_model_json(listing)
    CommandContext(args, stdout=slow, stderr=io.StringIO()).write_json(listing)
    assert fast.getvalue() == slow.getvalue() and "\ud800" in fast.getvalue()
