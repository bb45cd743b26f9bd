"""Browser fixtures: Debian's Chromium through Playwright, the app on pytest-django's live server."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

# Playwright's sync API runs an event loop in this thread, so Django refuses ORM calls
# from fixtures and tests ("SynchronousOnlyOperation"); nothing here is really async.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

try:
    from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
except ImportError:  # the dev extra is not installed
    sync_playwright = None

# Playwright must never download a browser of its own: without Debian's, skip them all.
if not CHROMIUM.exists():
    SKIP_REASON = f"browser tests skipped: {CHROMIUM} is not installed (apt-get install chromium)"
elif sync_playwright is None:
    SKIP_REASON = "browser tests skipped: Playwright is not installed (pip install -e '.[dev]')"
else:
    SKIP_REASON = None

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_runtest_setup(item):
    # Raised here, before any fixture, from one line: pytest -rs folds it into one reason.
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _audit_flushable(live_db):
    """Every browser test runs against the live server (tests/conftest.py: live_db)."""


# Every page reports each Content-Security-Policy violation to the test (a blocked inline
# script, style or handler, an eval, an asset from another origin): the page may not notice,
# a person would (a dead button, an unstyled bar), so the test fails on any.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => window.__lixiaoCSPViolation({
  directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile,
  line: e.lineNumber, sample: e.sample, page: location.href,
}), true);
"""


class CSPWatch:
    """The CSP violations reported by every page of every context a test opened."""

    def __init__(self) -> None:
        self.violations: list[dict] = []

    def attach(self, context: BrowserContext) -> None:
        context.expose_binding(
            "__lixiaoCSPViolation", lambda _source, violation: self.violations.append(violation)
        )
        context.add_init_script(_CSP_LISTENER)
        # Chromium also logs a violation on the console (one in a worker has no DOM event).
        context.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(
                {"console": message.text, "page": message.page and message.page.url}
            )

    def report(self) -> str:
        return "\n".join(f"  {v}" for v in self.violations)


class WatchedBrowser:
    """The session's Chromium, with every new context watched for CSP violations."""

    def __init__(self, browser: Browser, watch: CSPWatch) -> None:
        self._browser = browser
        self.csp = watch

    def new_context(self, **options) -> BrowserContext:
        context = self._browser.new_context(**options)
        self.csp.attach(context)
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def chromium() -> Browser:
    """One Chromium for the whole run; each test gets its own contexts (no shared session)."""
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def browser(chromium: Browser) -> WatchedBrowser:
    """Chromium for one test: it fails if any page it opened broke the Content-Security-Policy."""
    watched = WatchedBrowser(chromium, CSPWatch())
    yield watched
    if watched.csp.violations:
        pytest.fail(
            "the page broke the Content-Security-Policy:\n" + watched.csp.report(), pytrace=False
        )


@pytest.fixture
def page(browser: WatchedBrowser) -> Page:
    """A fresh context per test: no cookies or session shared between tests."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    if not pg.is_closed():
        pg.evaluate("0")  # a round trip: a violation reported just before has reached the watch
    context.close()


def login(page: Page, live_server, username: str, password: str) -> None:
    """Fill the real login form and wait for the page the server answers with."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@pytest.fixture
def screenshot(request, page: Page):
    """shoot(name): save <test>-<name>-desktop.png and -phone.png; return the phone scroll width.

    The width is document.documentElement.scrollWidth at 375 px: more than 375 means
    the page scrolls sideways on a phone.
    """

    def shoot(name: str) -> int:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = f"{_slug(request.node.name)}-{_slug(name)}"
        before = page.viewport_size or DESKTOP
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(ARTIFACTS / f"{stem}-desktop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(ARTIFACTS / f"{stem}-phone.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        page.set_viewport_size(before)
        return width

    return shoot


# --- Accessibility: axe-core (shipped inside axe-playwright-python) on a loaded page ----------

# The rules of WCAG 2.0 / 2.1 levels A and AA (what GB/T 37668-2019 asks of web content) and
# axe's best practices (landmarks, one h1, heading order …).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")


def axe_violations(page: Page, impacts=BLOCKING) -> list[str]:
    """Run axe on the page as it is now; one line per violated rule of the given impacts."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not page.evaluate("typeof window.axe === 'object'"):  # once per page, not per width
        page.evaluate(AXE_SCRIPT)
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    found = page.evaluate("options => axe.run(document, options)", options)["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(_node(node) for node in v["nodes"][:5])
        for v in found
        if v["impact"] in impacts
    ]


def _node(node: dict) -> str:
    """Where, and axe's own words on what is wrong there (e.g. the contrast ratio and colours)."""
    why = [check["message"] for check in node.get("any", []) + node.get("all", [])]
    return " ".join(node["target"]) + (f" [{why[0]}]" if why else "")
