"""Plain-text layout shared by the results' ``summary()``: a title over aligned key/value rows."""

from __future__ import annotations


def key_value_table(title: str, rows: list[tuple[str, str]]) -> str:
    """``title``, an underline, then one ``key  value`` line per row with the keys aligned.

    Examples
    --------
    >>> print(key_value_table("Fit", [("sigma2", "1.0"), ("ratio", "0.5")]))
    Fit
    ========================================
    sigma2  1.0
    ratio   0.5
    """
    width = max(len(k) for k, _ in rows)
    lines = [title, "=" * max(len(title), 40)]
    lines += [f"{k:<{width}}  {v}" for k, v in rows]
    return "\n".join(lines)
