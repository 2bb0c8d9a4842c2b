"""The theme's main stylesheet, cut to the rules the site can use (engine/stylesheet.py)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import material
import pytest
import tinycss2

from generator.engine.stylesheet import Vocabulary, cut_theme_stylesheet, prune

REPO = Path(__file__).resolve().parent.parent
THEME_CSS = next((Path(material.__file__).parent / "templates" / "assets" / "stylesheets").glob("main.*.min.css"))


def vocabulary(*, markup: str = "", code: str = "") -> Vocabulary:
    v = Vocabulary()
    v.add_markup(markup)
    v.add_code(code)
    return v


def test_a_rule_whose_classes_appear_is_kept_byte_for_byte():
    css = ".md-nav__link--active,.md-nav__link:hover{color:var(--md-accent-fg-color)}"
    assert prune(css, vocabulary(markup='<a class="md-nav__link md-nav__link--active">')) == css


def test_a_rule_with_a_class_no_page_can_carry_is_dropped():
    css = "body{margin:0}.md-annotation__index{counter-increment:x}.md-typeset{font-size:1rem}"
    assert prune(css, vocabulary(markup='<div class="md-typeset">')) == "body{margin:0}.md-typeset{font-size:1rem}"


def test_a_selector_list_keeps_only_its_selectors_that_can_match():
    css = ".md-typeset .admonition,.md-typeset details{margin:1em 0}"
    assert prune(css, vocabulary(markup='<div class="md-typeset">')) == ".md-typeset details{margin:1em 0}"


def test_classes_inside_not_or_attribute_selectors_never_drop_a_rule():
    # :not(.x) matches elements without .x, so a missing class there is no reason to drop it.
    css = ".md-typeset :not(.md-unused)>code{padding:0}[class*=md-unused]{color:red}"
    assert prune(css, vocabulary(markup='<div class="md-typeset">')) == css


def test_media_blocks_keep_their_live_rules_and_vanish_when_empty():
    css = "@media screen and (min-width:60em){.md-a{x:1}.md-b{x:2}}@media print{.md-b{x:3}}.md-a{y:1}"
    assert prune(css, vocabulary(markup='<p class="md-a">')) == "@media screen and (min-width:60em){.md-a{x:1}}.md-a{y:1}"


def test_keyframes_and_other_at_rules_are_kept():
    css = '@charset "UTF-8";@keyframes md-spin{0%{x:1}to{x:2}}.md-gone{animation:md-spin}'
    assert prune(css, vocabulary()) == '@charset "UTF-8";@keyframes md-spin{0%{x:1}to{x:2}}'


def test_classes_a_script_composes_from_a_prefix_are_kept():
    css = ".md-tag--news{color:blue}.md-tag-icon{x:1}.md-other--x{x:2}"
    script = "x(`md-tag-icon md-tag--${a[c]}`)"
    assert prune(css, vocabulary(code=script)) == ".md-tag--news{color:blue}.md-tag-icon{x:1}"


def test_the_theme_stylesheet_is_unchanged_when_every_class_is_known():
    css = THEME_CSS.read_text(encoding="utf-8")

    class Everything(Vocabulary):
        def __contains__(self, name: str) -> bool:
            return True

    assert prune(css, Everything()) == css.rstrip()


def test_the_site_gets_a_cut_copy_under_its_own_name(tmp_path):
    folder = tmp_path / "assets" / "stylesheets"
    folder.mkdir(parents=True)
    (folder / "main.0123abcd.min.css").write_text(".md-a{x:1}.md-b{x:2}", encoding="utf-8")
    (folder / "main.0123abcd.min.css.map").write_text("{}", encoding="utf-8")
    pages = ['<link rel="stylesheet" href="assets/stylesheets/main.0123abcd.min.css"><p class="md-a">',
             '<link rel="stylesheet" href="../assets/stylesheets/main.0123abcd.min.css">']

    old, new = cut_theme_stylesheet(tmp_path, pages, [])

    name = new[len("stylesheets/"):-1]
    assert re.fullmatch(r"main\.0123abcd\.zq[0-9a-f]{8}\.min\.css", name)
    assert old == 'stylesheets/main.0123abcd.min.css"'
    assert sorted(p.name for p in folder.iterdir()) == [name]
    assert (folder / name).read_text(encoding="utf-8") == ".md-a{x:1}"
    assert pages[1].replace(old, new) == f'<link rel="stylesheet" href="../assets/stylesheets/{name}">'


def test_the_cut_is_kept_for_a_rebuild_and_made_again_when_its_inputs_change(tmp_path, monkeypatch):
    """The last cut is reused only for the same stylesheet and vocabulary; a changed class, a
    changed stylesheet or a damaged cache file cut again (the result is always prune()'s)."""
    from generator.engine import stylesheet

    calls = []
    real = stylesheet.prune
    monkeypatch.setattr(stylesheet, "prune", lambda css, v: calls.append(css) or real(css, v))
    cache = tmp_path / "cache" / "cut.json"

    def cut(css: str, markup: str) -> str:
        site = tmp_path / "site"
        folder = site / "assets" / "stylesheets"
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        (folder / "main.0123abcd.min.css").write_text(css, encoding="utf-8")
        page = f'<link rel="stylesheet" href="assets/stylesheets/main.0123abcd.min.css"><p class="{markup}">'
        _, new = cut_theme_stylesheet(site, [page], [], cache)
        return (folder / new[len("stylesheets/"):-1]).read_text(encoding="utf-8")

    css = ".md-a{x:1}.md-b{y:1}"
    assert cut(css, "md-a") == ".md-a{x:1}" and len(calls) == 1
    assert cut(css, "md-a") == ".md-a{x:1}" and len(calls) == 1  # from the cache
    assert cut(css, "md-b") == ".md-b{y:1}" and len(calls) == 2
    assert cut(css + ".md-b{z:1}", "md-b") == ".md-b{y:1}.md-b{z:1}" and len(calls) == 3
    cache.write_text("{damaged", encoding="utf-8")
    assert cut(css, "md-a") == ".md-a{x:1}" and len(calls) == 4


def test_a_site_without_the_theme_link_is_left_alone(tmp_path):
    (tmp_path / "assets" / "stylesheets").mkdir(parents=True)
    (tmp_path / "assets" / "stylesheets" / "main.0123abcd.min.css").write_text(".md-a{x:1}", encoding="utf-8")
    assert cut_theme_stylesheet(tmp_path, ["<p>x</p>"], []) is None
    assert [p.name for p in (tmp_path / "assets" / "stylesheets").iterdir()] == ["main.0123abcd.min.css"]


# --- the built demo site ------------------------------------------------------------------


def _selectors(css: str) -> set[str]:
    """Every selector of every style rule, at any @media depth, as tinycss2 writes it."""
    found: set[str] = set()

    def walk(nodes):
        for node in nodes:
            if node.type == "qualified-rule":
                found.update(s.strip() for s in tinycss2.serialize(node.prelude).split(","))
            elif node.type == "at-rule" and node.content is not None and node.lower_at_keyword != "keyframes":
                walk(tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True))

    walk(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))
    return found


def _top_level_classes(selector: str) -> set[str]:
    while True:  # drop :not(...), :is(...) and [...] (innermost first)
        shorter = re.sub(r"\([^()]*\)|\[[^\[\]]*\]", "", selector)
        if shorter == selector:
            break
        selector = shorter
    return set(re.findall(r"\.(-?[A-Za-z_][\w-]*)", selector))


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> Path:
    from generator.publish import build_site

    out = tmp_path_factory.mktemp("stylesheet") / "site"
    build_site(REPO / "data", out, as_of=date(2026, 11, 30), history=False, build_dir=out.parent / "build")
    return out


def test_no_rule_a_page_of_the_site_can_use_is_lost(demo_site):
    """Every theme selector whose classes some page carries, or the theme's script can add,
    is still there; and the cut is real (a third of the theme's file or more is gone)."""
    theme = THEME_CSS.read_text(encoding="utf-8")
    [cut_file] = (demo_site / "assets" / "stylesheets").glob("main.*.zq*.min.css")
    cut = cut_file.read_text(encoding="utf-8")
    used: set[str] = set()
    for page in demo_site.rglob("*.html"):
        for value in re.findall(r'\bclass="([^"]*)"', page.read_text(encoding="utf-8")):
            used.update(value.split())
    bundle = next(demo_site.glob("assets/javascripts/bundle.*.min.js")).read_text(encoding="utf-8")
    used |= set(re.findall(r"-?[A-Za-z_][\w-]*", bundle))
    must_stay = {s for s in _selectors(theme) if _top_level_classes(s) <= used}
    assert must_stay - _selectors(cut) == set()
    assert len(cut.encode()) < 0.75 * len(theme.encode())


def test_every_page_links_the_cut_stylesheet_and_the_theme_file_is_gone(demo_site):
    [cut_file] = (demo_site / "assets" / "stylesheets").glob("main.*.zq*.min.css")
    linked = set()
    for page in demo_site.rglob("*.html"):
        linked.update(re.findall(r'href="[^"]*assets/stylesheets/(main\.[^"]+)"', page.read_text(encoding="utf-8")))
    assert linked == {cut_file.name}
    assert [p.name for p in (demo_site / "assets" / "stylesheets").glob("main.*")] == [cut_file.name]
