"""Plain-text and Markdown tables and short value renderings shared by `run` and `diff`."""
from __future__ import annotations

import json
import math
import re
from typing import Any


def table(headers: list[str], rows: list[list[Any]], markdown: bool = False, indent: str = "  ") -> str:
    """An aligned text table (numbers right-aligned), or a GitHub Markdown table when `markdown`."""
    cells = [[str(c) for c in row] for row in rows]
    if markdown:
        esc = [[c.replace("|", "\\|").replace("\n", "<br>") for c in row] for row in cells]
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in esc])
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(row[i]) for row in cells) and cells for i in range(len(headers))]

    def line(row):
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric)]
        return (indent + "  ".join(parts)).rstrip()

    return "\n".join([line(headers)] + [line(row) for row in cells])


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("x"))
    except ValueError:
        return False
    return True


def number(x: float | None) -> str:
    """A float in 3 significant digits ('-' when absent)."""
    if x is None:
        return "-"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return f"{x:.3g}"


def value(v: Any, width: int = 60) -> str:
    """A compact one-line rendering of an observed value, cut to `width` characters."""
    text = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"), default=str)
    return text if len(text) <= width else text[: width - 3] + "..."


def short_id(nodeid: str) -> str:
    """A node id without its file part: 'test_op_matches[tanh-float32]'."""
    return nodeid.rsplit("::", 1)[-1]


def headline(message: str) -> str:
    """The first line of a failure message, without the exception's module path ('StaleDifference: ...')."""
    first = message.splitlines()[0] if message else ""
    return re.sub(r"^(?:[A-Za-z_]\w*\.)+(?=\w+: )", "", first)
