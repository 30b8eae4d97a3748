"""docs/diagnostics.md documents exactly the codes of packer.diagnostics.CATALOGUE."""

from __future__ import annotations

from pathlib import Path

from packer.diagnostics import CATALOGUE
from packer.doctor.service import AUTO_FIXABLE_CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagnostics.md"


def catalogue_rows() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| PK"):
            cells = [c.strip().replace("\\|", "|") for c in line.strip("|").split(" | ")]
            assert cells[0] not in rows, f"{cells[0]} is listed twice"
            rows[cells[0]] = cells
    return rows


def test_every_code_is_documented_and_no_extra_code() -> None:
    assert set(catalogue_rows()) == set(CATALOGUE)


def test_documented_fields_match_the_catalogue() -> None:
    for code, cells in catalogue_rows().items():
        info = CATALOGUE[code]
        assert len(cells) == 8, f"{code}: expected 8 columns, got {len(cells)}"
        _code, slug, severity, klass, meaning, fix, _auto, example = cells
        assert slug == f"`{info.slug}`", code
        assert severity == info.severity.value, code
        assert klass == info.diagnostic_class.value, code
        assert meaning == info.title, code
        assert fix == info.fix, code
        assert example, f"{code} has no example message"


def test_documented_auto_fixes_are_the_ones_doctor_applies() -> None:
    documented = {code for code, cells in catalogue_rows().items() if cells[6] != "no"}
    assert documented == AUTO_FIXABLE_CODES
