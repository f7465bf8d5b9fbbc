"""End-to-end fixtures: Debian's Chromium driven by Playwright (sync API) against pytest-django's live server.

Each test gets fresh browser contexts (desktop, phone or JavaScript off) whose base URL is the live server,
a clinic with one service and two weekday therapists, and a `screenshot` helper that writes
test-output/screenshots/<test-name>-<step>.png. Every page is watched: an uncaught JavaScript error,
a failed request, an HTTP error response or anything the Content Security Policy refused fails the test,
so a broken asset, a 500 or an inline script cannot hide.
"""

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio event loop in the test thread, and while Playwright is started (for the
# whole session: the browser is shared) asyncio reports that loop as running. Django then believes the ORM calls
# made by the tests themselves (setting up the clinic, checking the database) come from async code and raises
# SynchronousOnlyOperation. They don't: the tests are plain synchronous code, and the live server answers the
# browser from its own threads. Set at import, so it holds for every test that runs after the browser starts.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    sync_playwright,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
NO_JAVASCRIPT = {**DESKTOP, "java_script_enabled": False}

# The page reports each CSP violation to the console too, in case the browser's own "Refused to ..." message is
# not passed on. Added by Playwright (DevTools), so the policy does not stop this script itself.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`securitypolicyviolation: ${event.effectiveDirective} refused ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile || event.documentURI}:${event.lineNumber}`);
});
"""
CSP_VIOLATION = re.compile(r"Refused to|securitypolicyviolation|Content Security Policy")

# Playwright's own wait limits, in milliseconds: generous for a slow CI machine, far below pytest's patience.
ACTION_TIMEOUT_MS = 10_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test, so fixtures can tell at teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def clinic_data(transactional_db, service, therapist, second_therapist):
    """A clinic with "Myofascial release" (30, 60 or 90 minutes) and two therapists working weekdays 9–12, 13–17.

    `transactional_db` comes first so that the shared fixtures, which ask for `db`, write committed rows
    the live server can see.
    """
    return {"service": service, "therapists": [therapist, second_therapist]}


def _file_name(test_name: str, step: str) -> str:
    return re.sub(r"[^\w.-]+", "_", f"{test_name}-{step}").strip("_") + ".png"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """`screenshot(page, "step")` saves the whole page to test-output/screenshots/<test-name>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, step: str) -> Path:
        path = SCREENSHOTS / _file_name(request.node.name, step)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def open_page(
    browser: Browser, live_server, clinic_data, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """`open_page(**context_options)` opens a page in a fresh browser context pointed at the live server.

    At teardown: a failed test leaves a screenshot of each open page ("-failed"), then any JavaScript
    error, failed request, HTTP error response or CSP violation seen on the way fails the test.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []
    problems: list[str] = []
    expected: list[tuple[int, re.Pattern]] = []

    def watch(page: Page) -> None:
        def on_request_failed(req: Request) -> None:
            # ERR_ABORTED: a navigation replaced by another one, as when a form is sent twice.
            if req.failure != "net::ERR_ABORTED":
                problems.append(f"request failed: {req.method} {req.url} ({req.failure})")

        def on_response(response: Response) -> None:
            if any(status == response.status and path.search(response.url) for status, path in expected):
                return
            if response.status >= 400:
                problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

        def on_console(message: ConsoleMessage) -> None:
            if CSP_VIOLATION.search(message.text):
                problems.append(f"CSP violation on {page.url}: {message.text}")

        page.on("pageerror", lambda error: problems.append(f"JavaScript error on {page.url}: {error}"))
        page.on("console", on_console)
        page.on("requestfailed", on_request_failed)
        page.on("response", on_response)

    def open_(**options) -> Page:
        context = browser.new_context(base_url=live_server.url, locale="en-CA", **options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        watch(page)
        pages.append(page)
        return page

    def expect_refusal(status: int, path: str) -> None:
        """A refusal the test provokes on purpose (say a 409 for a drop onto closed time) is not a problem."""
        expected.append((status, re.compile(path)))

    open_.expect_refusal = expect_refusal  # type: ignore[attr-defined]
    yield open_

    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(pages, start=1):
            with contextlib.suppress(Exception):  # best effort: the page may have gone with the failure
                page.screenshot(path=str(SCREENSHOTS / _file_name(request.node.name, f"failed-{number}")))
    for context in contexts:
        context.close()
    assert not problems, "The browser saw problems:\n" + "\n".join(problems)


def pass_second_step(page: Page, username: str) -> None:
    """After the password: when the login owes its two-factor code (managers and superusers always), enter it.

    On the setup page the key is read from the page, as a person types it into their app; on the code page it comes
    from the authenticator in the database. The code is django-otp's own TOTP, one time step ahead of any code this
    authenticator already accepted (each works once). Returns once the browser has left the login pages.
    """
    import base64

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/accounts/two-factor/setup/" in page.url:
        key = base64.b32decode("".join((page.locator("#two-factor-secret").text_content() or "").split()))
        code = TOTP(key).token()
    elif "/accounts/two-factor/verify/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.drift += max(0, device.last_t + 1 - totp.t())
        code = totp.token()
    else:
        return
    page.get_by_label("Code from your authenticator app").fill(f"{code:06d}")
    page.get_by_role("button", name=re.compile("^(Check the code|Confirm and turn on)$")).click()
    page.wait_for_url(lambda url: "/accounts/two-factor/" not in url)
