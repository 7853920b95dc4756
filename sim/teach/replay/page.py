"""One self-contained HTML file: the page template, its style and script, and the run's
data, with nothing fetched from anywhere.

The data travels as JSON in a ``<script type="application/json">`` element, with every
``<``, ``>`` and ``&`` written as a JSON escape, so no name from a config (an app called
``</script><script>alert(1)</script>``, say) can end the element or start markup: the
page's script parses it and only ever shows it as text. The page's Content Security
Policy allows its own script and style alone (by their hashes) and no network at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from functools import cache
from importlib.resources import files
from typing import Any

_PLACEHOLDER = re.compile(r"@(TITLE|STYLE|STYLE_HASH|SCRIPT|SCRIPT_HASH|DATA)@")
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


@cache
def _asset(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def _inline(name: str) -> str:
    """A script or style sheet to put inline, checked to hold nothing that would end
    its element early."""
    text = _asset(name)
    if re.search(r"</(script|style)|<!--", text, re.IGNORECASE):
        raise ValueError(f"{name}: holds text that would end its element")
    return text


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def script_json(data: Any) -> str:
    """`data` as JSON that is safe inside a script element: no ``<``, ``>`` or ``&``
    (and no line separators JavaScript once read as line ends), each escaped as JSON
    allows; non-finite numbers become null."""
    text = json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda match: _SCRIPT_ESCAPES[match.group(0)], text)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def render(data: dict[str, Any]) -> str:
    """The page for a run's replay data (`sim.teach.replay.timeline.replay_data`)."""
    script = _inline("replay.js")
    style = _inline("replay.css")
    values = {
        "TITLE": html.escape(str(data.get("title", ""))),
        "STYLE": style,
        "STYLE_HASH": _digest(style),
        "SCRIPT": script,
        "SCRIPT_HASH": _digest(script),
        "DATA": script_json(data),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], _asset("page.html"))
