"""What a browser test watches on a page: one rule for the app's and the report's tests."""

from __future__ import annotations

from urllib.parse import urlparse


def watch(page, here: str) -> list[str]:
    """What goes wrong on `page`: any console warning or error (a font Chromium cannot
    decode is a warning), a page error, a failed request, an HTTP error or a request to
    another host (the page must work offline; such requests are refused)."""
    problems: list[str] = []

    def offline(route) -> None:
        if urlparse(route.request.url).netloc in (here, ""):
            route.continue_()
        else:
            problems.append(f"external request: {route.request.url[:100]}")
            route.abort()

    page.route("**/*", offline)
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text[:300]}")
            if m.type in ("warning", "error", "assert")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url[:100]} {r.failure}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url[:100]}") if r.status >= 400 else None,
    )
    return problems
