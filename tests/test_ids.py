"""The one id rule (generator/ids.py): what ids look like, and that none escapes its folder."""

from __future__ import annotations

import re

import pytest

from generator import ids, urls
from generator.schema import load_package
from generator.tools import scaffold


def test_schema_patterns_state_the_same_rule():
    package = load_package()
    for kind, prefix in ids.RECORD_PREFIXES.items():
        pattern = package.resource(kind).field("id").pattern
        assert pattern == f"^{prefix}-[0-9]{{4}}-[0-9]{{3,}}$"
        assert re.fullmatch(pattern, ids.record_id(kind, 2024, 7))
    assert ids.DEPARTMENT_ID.fullmatch("jd-yuejin") and not ids.is_department_id("index")


@pytest.mark.parametrize("value", ["../CM-2024-001", "CM-2024-001/..", "CM-2024-01", "cm-2024-001", "AR-2024-001",
                                   "CM-2024-001\n", "ＣＭ-2024-001", "CM-２０２４-001", None, 5])
def test_a_commitment_page_only_for_a_commitment_id(value):
    assert not ids.is_record_id("commitments", value)
    with pytest.raises(ValueError):
        urls.record_path("commitments", value)


@pytest.mark.parametrize("value", ["../x", "a/b", "index", "Fgj", "-x", "x..y/", ""])
def test_department_ids_cannot_name_another_path(value):
    with pytest.raises(ValueError):
        urls.record_path("departments", value)


def test_next_id_and_the_tools_use_the_rule():
    assert ids.next_record_id("arrears", 2024, ["AR-2024-999", "AR-2024-1000", "AR-2023-5000", "CM-2024-2000"]) == "AR-2024-1001"
    assert scaffold.next_id("DF", 2025, []) == "DF-2025-001"
    assert urls.record_path("findings", "DF-2025-001") == "findings/DF-2025-001.md"
