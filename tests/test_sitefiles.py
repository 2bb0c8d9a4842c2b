"""The site's own stylesheet and scripts are served minified: the same rules, less to download."""

import re
from pathlib import Path

from generator import sitefiles

ASSETS = sitefiles.templates_dir() / "assets"


def _rules(css: str) -> list[tuple[str, str]]:
    """(selector, declarations) pairs with all white space removed: what the browser reads."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [(re.sub(r"\s+", "", sel), re.sub(r"\s+|;(?=\s*$)", "", body).rstrip(";"))
            for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]


def test_the_stylesheet_is_served_without_comments_and_indentation_but_with_every_rule():
    source = (ASSETS / "css" / "zq.css").read_text(encoding="utf-8")
    served = sitefiles.asset_bytes(ASSETS / "css" / "zq.css").decode("utf-8")
    assert "/*" in source and "/*" not in served
    assert len(served) < 0.85 * len(source)
    assert _rules(served) == _rules(source)


def test_scripts_are_served_without_comments_and_keep_their_strings():
    for name in ("zq.js", "zq-textsize.js"):
        source = (ASSETS / "js" / name).read_text(encoding="utf-8")
        served = sitefiles.asset_bytes(ASSETS / "js" / name).decode("utf-8")
        assert len(served) < len(source)
        assert not re.search(r"^\s*//", served, flags=re.M)
        # every string literal of the source (Chinese messages, selectors) is still there
        for literal in re.findall(r'"(?:[^"\\\n]|\\.)*"', source):
            assert literal in served, literal


def test_other_assets_are_served_as_they_are(tmp_path: Path):
    # the vendored polyfill keeps its licence header; the Mermaid stub is only a comment
    for rel in ("img/favicon.svg", "js/zq-resize-observer.js", "js/zq-no-mermaid.js"):
        assert sitefiles.asset_bytes(ASSETS / rel) == (ASSETS / rel).read_bytes(), rel
