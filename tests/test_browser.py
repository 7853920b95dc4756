"""The browser the page tests rely on: it reports errors, outside requests and dialogs."""

from __future__ import annotations

from pathlib import Path

from browser import Browser


def write(folder: Path, body: str) -> Path:
    page = folder / "page.html"
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}</body></html>"
    )
    return page


def test_a_clean_page_loads_with_no_errors(browser: Browser, tmp_path: Path) -> None:
    opened = browser.open(
        write(tmp_path, "<h1 id='t'>layers</h1><script>console.log('ok')</script>")
    )
    assert opened.page.inner_text("#t") == "layers"
    assert opened.console == ["log: ok"]
    assert opened.errors == []


def test_a_script_error_and_an_outside_request_are_caught(browser: Browser, tmp_path: Path) -> None:
    opened = browser.open(
        write(tmp_path, "<img src='http://example.invalid/x.png'><script>nosuch();</script>")
    )
    assert any(error.startswith("page error:") and "nosuch" in error for error in opened.errors)
    assert "request outside the page: http://example.invalid/x.png" in opened.errors


def test_a_dialog_is_recorded_not_left_open(browser: Browser, tmp_path: Path) -> None:
    opened = browser.open(write(tmp_path, "<script>alert('hello')</script><p id='p'>after</p>"))
    assert opened.dialogs == ["hello"]
    assert opened.page.inner_text("#p") == "after"
