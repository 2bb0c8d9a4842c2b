"""Issue 12, item 5: a browser without ResizeObserver (old phones) stays on the site.

Material's bundle then loads a polyfill; it used to come from unpkg.com. The test
removes ResizeObserver before any script runs, as on Safari before 13.1.
"""

from __future__ import annotations

import pytest

from e2e_support import assert_no_console_errors, assert_same_host

pytestmark = pytest.mark.browser

NO_RESIZE_OBSERVER = "delete window.ResizeObserver; delete window.ResizeObserverEntry;"


@pytest.mark.parametrize("path", ["/", "/commitments/CM-2024-001/", "/findings/"])
def test_without_resize_observer_the_polyfill_comes_from_the_site(open_tab, demo_server, path):
    tab = open_tab(demo_server, width=375, height=740)
    tab.page.add_init_script(NO_RESIZE_OBSERVER)
    tab.open(path, idle=True)
    assert_same_host(tab, f"on {path} without ResizeObserver")
    polyfill = [u for u in tab.requests if u.endswith("/assets/js/zq-resize-observer.js")]
    assert polyfill == [demo_server.url("/assets/js/zq-resize-observer.js")], tab.requests
    # The polyfill took its place and works: an observed element reports its size.
    size = tab.page.evaluate("""() => new Promise(resolve => {
        const box = document.createElement('div');
        box.style.width = '123px'; box.style.height = '45px';
        document.body.appendChild(box);
        new ResizeObserver(entries => resolve([entries[0].target === box, entries[0].contentRect.width,
                                               entries[0].contentRect.height])).observe(box);
    })""")
    assert size == [True, 123, 45]
    assert tab.page.evaluate("typeof ResizeObserver.prototype.zqCheck") == "function"
    assert_no_console_errors(tab, f"on {path} without ResizeObserver")
