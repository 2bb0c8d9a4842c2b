"""axe-core finds no serious or critical violation; every chart has a text alternative."""

from __future__ import annotations

import pytest

from e2e_support import TOUR, assert_no_serious_axe, axe_serious, chart_problems, inject, write_mutant

pytestmark = pytest.mark.browser

#: Home, a list, a record of each kind, a department, open data, and the pages with their own templates.
AXE_PAGES = TOUR + ("/arrears/", "/evaluations/", "/tasks/", "/departments/")
CHART_PAGES = ("/", "/commitments/", "/arrears/", "/evaluations/", "/departments/zjj/")


@pytest.mark.parametrize("path", AXE_PAGES)
def test_no_serious_axe_violation(demo_tab, path):
    demo_tab.open(path)
    assert_no_serious_axe(demo_tab, path)


def test_no_serious_axe_violation_on_a_phone(open_tab, demo_server):
    """The phone layout shows other controls (drawer button, search icon): check it too."""
    tab = open_tab(demo_server, width=375, height=812)
    tab.open("/")
    assert_no_serious_axe(tab, "/ at 375 px")


def test_charts_have_text_alternatives(demo_tab):
    total, problems = 0, []
    for path in CHART_PAGES:
        demo_tab.open(path)
        count, found = chart_problems(demo_tab.page)
        total += count
        problems += [f"{path}: {p}" for p in found]
    assert total >= len(CHART_PAGES), f"only {total} svg.zq-chart on {CHART_PAGES}: the charts are missing"
    assert not problems, "charts without a proper text alternative:\n" + "\n".join(problems)


def test_mutation_missing_names_are_caught(open_tab, mutant_server, mutant_site):
    """A copy of the home page with an image without alt and the search dialog's name removed."""
    def break_it(html: str) -> str:
        marker = 'role="dialog" aria-label="'
        assert marker in html, "the search dialog override (partials/search.html) is gone"
        start = html.index(marker) + len('role="dialog" ')
        end = html.index('"', start + len('aria-label="'))
        html = html[:start] + html[end + 1:]
        return inject(html, '<p><img src="assets/img/favicon.svg" width="40" height="40"></p>')

    path = write_mutant(mutant_site, "index.html", "mutant-a11y.html", break_it)
    tab = open_tab(mutant_server)
    tab.open(path)
    ids = {v["id"] for v in axe_serious(tab.page)}
    assert {"image-alt", "aria-dialog-name"} <= ids, ids
    with pytest.raises(AssertionError, match="image-alt"):
        assert_no_serious_axe(tab, path)


def test_mutation_chart_without_title_is_caught(open_tab, mutant_server, mutant_site):
    path = write_mutant(mutant_site, "index.html", "mutant-chart.html",
                        lambda html: html.replace('role="img" aria-labelledby=', 'data-x=', 1))
    tab = open_tab(mutant_server)
    tab.open(path)
    count, problems = chart_problems(tab.page)
    assert count and any("role=None" in p for p in problems) and any("no aria-labelledby" in p for p in problems), problems
