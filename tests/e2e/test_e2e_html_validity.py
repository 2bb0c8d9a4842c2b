"""The Nu Html Checker (vnu.jar), run once over the whole demo site and the hostile site.

Errors are allowed only from the explicit, commented ignore list in
e2e_support.VNU_IGNORES (markup of the Material theme itself).
"""

from __future__ import annotations

import pytest

from e2e_support import VNU_IGNORES, vnu_errors

pytestmark = pytest.mark.browser


def test_demo_site_is_valid_html(vnu_messages):
    errors = vnu_errors(vnu_messages["demo"])
    assert not errors, f"{len(errors)} HTML errors in the demo site:\n" + "\n".join(errors[:60])


def test_hostile_site_is_valid_html(vnu_messages):
    """Escaped hostile text must still give valid HTML (no stray tags, no broken attributes)."""
    errors = vnu_errors(vnu_messages["hostile"])
    assert not errors, f"{len(errors)} HTML errors in the hostile site:\n" + "\n".join(errors[:60])


def test_ignore_list_is_still_needed(vnu_messages):
    """Every ignore must still match something: drop an ignore once Material stops needing it."""
    messages = vnu_messages["demo"]
    stale = [reason for pattern, extract, reason in VNU_IGNORES
             if not any(pattern.search(m.get("message", "")) and extract.search(m.get("extract") or "") for m in messages)]
    assert not stale, f"ignore list entries that no longer match any message (remove them): {stale}"


def test_mutation_invalid_markup_is_caught(vnu_messages):
    errors = vnu_errors(vnu_messages["mutant"])
    assert any("“div” not allowed as child of element “span”" in e for e in errors), errors
    assert any("Duplicate ID" in e for e in errors), errors
