"""Every internal link and #fragment of the built site resolves; the sitemap lists exactly the pages."""

from __future__ import annotations

import shutil

import pytest

from e2e_support import HIDDEN_FINDINGS, base_url_of, crawl_links, sitemap_locs, sitemap_problems

pytestmark = pytest.mark.browser


def test_every_internal_link_resolves(demo_site):
    problems = crawl_links(demo_site, base_url_of(demo_site))
    assert not problems, f"{len(problems)} broken internal links:\n" + "\n".join(problems[:80])


def test_every_internal_link_resolves_in_the_hostile_site(hostile_site):
    problems = crawl_links(hostile_site, base_url_of(hostile_site))
    assert not problems, f"{len(problems)} broken internal links:\n" + "\n".join(problems[:80])


def test_sitemap_lists_exactly_the_public_pages(demo_site):
    problems = sitemap_problems(demo_site)
    assert not problems, "\n".join(problems)
    locs = sitemap_locs(demo_site)
    assert len(locs) > 50
    assert not [loc for loc in locs for h in HIDDEN_FINDINGS if h in loc]


@pytest.fixture
def broken_copy(demo_site, tmp_path):
    target = tmp_path / "site"
    shutil.copytree(demo_site, target)
    return target


def test_mutation_broken_links_are_caught(broken_copy):
    page = broken_copy / "commitments" / "CM-2024-001" / "index.html"
    html = page.read_text(encoding="utf-8")
    html = html.replace("</article>", '<a href="../CM-2099-999/">无</a><a href="#没有这个锚点">无</a>'
                        '<a href="../../departments/zjj/#没有这个锚点">无</a><img src="../../assets/none.png" alt="">'
                        "</article>", 1)
    page.write_text(html, encoding="utf-8")
    problems = crawl_links(broken_copy, base_url_of(broken_copy))
    text = "\n".join(problems)
    assert "CM-2099-999" in text and "/assets/none.png" in text, text
    assert sum("没有这个锚点" in p for p in problems) == 2, text
    assert all(p.startswith("commitments/CM-2024-001/index.html") for p in problems), text


def test_mutation_sitemap_mismatch_is_caught(broken_copy):
    sitemap = broken_copy / "sitemap.xml"
    xml = sitemap.read_text(encoding="utf-8")
    base = base_url_of(broken_copy)
    # one page dropped, one hidden finding added
    first = xml.index("<url>", xml.index("<url>") + 1)
    end = xml.index("</url>", first) + len("</url>")
    dropped = xml[first:end]
    xml = xml[:first] + f"<url><loc>{base}findings/DF-2025-003/</loc></url>" + xml[end:]
    sitemap.write_text(xml, encoding="utf-8")
    problems = "\n".join(sitemap_problems(broken_copy))
    assert "missing from sitemap.xml" in problems and "DF-2025-003" in problems, (problems, dropped)
