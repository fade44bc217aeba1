"""The referral pack as PDF (WeasyPrint): the same HTML as the printable page, with the
package's own stylesheets given as text and nothing fetched from anywhere, so content in
an alert can never make the renderer reach a file or a host."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher


class _NoFetch(URLFetcher):  # type: ignore[misc]
    """Refuses every URL: the pack needs no image, font or stylesheet from outside."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        raise ValueError(f"the referral pack fetches nothing ({url[:60]!r})")


def _css(name: str, fetcher: URLFetcher) -> CSS:
    text = (files("triage") / "static" / name).read_text(encoding="utf-8")
    return CSS(string=text, url_fetcher=fetcher)


def render_pdf(html: str) -> bytes:
    """PDF bytes of ``html`` (the pack page rendered without its ``<link>`` tags)."""
    fetcher = _NoFetch()
    doc = HTML(string=html, base_url=None, url_fetcher=fetcher)
    pdf = doc.write_pdf(stylesheets=[_css("style.css", fetcher), _css("print.css", fetcher)])
    return bytes(pdf or b"")
