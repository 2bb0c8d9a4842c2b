"""Nothing is fetched from another host: no web fonts, no CDN, no trackers."""

from __future__ import annotations

import pytest

from e2e_support import TOUR, assert_same_host, foreign_requests, inject, search, write_mutant

pytestmark = pytest.mark.browser


def test_every_request_goes_to_the_site_itself(demo_tab):
    for path in TOUR:
        demo_tab.open(path, idle=True)  # wait for late requests too (search worker, its index)
    # Searching loads the worker and the index: still the same host.
    search(demo_tab, "拖欠")
    demo_tab.page.wait_for_load_state("networkidle")
    assert any(u.endswith("/search/search_index.json") for u in demo_tab.requests), \
        "the search index was never requested: the recorder missed the worker's requests"
    assert_same_host(demo_tab, "while visiting " + ", ".join(TOUR))


def test_mutation_a_web_font_is_caught(open_tab, mutant_server, mutant_site):
    """Prove the check: a copy of the home page with a Google Fonts stylesheet must fail it."""
    font = '<link href="https://fonts.googleapis.com/css?family=Roboto" rel="stylesheet">'
    path = write_mutant(mutant_site, "index.html", "mutant-font.html",
                        lambda html: inject(html, font, before="</head>"))
    tab = open_tab(mutant_server)
    tab.open(path, idle=True)
    assert any("fonts.googleapis.com" in u for u in foreign_requests(tab))
    with pytest.raises(AssertionError, match="fonts.googleapis.com"):
        assert_same_host(tab)
