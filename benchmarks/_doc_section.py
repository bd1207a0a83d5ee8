"""Write a benchmark's generated block into its doc, between the block's own markers.

One rule for every study that regenerates a section of a file in docs/: the block (markers
included) replaces the text from the first ``begin`` marker to the next ``end`` marker; a doc
without them gets the block after the ``after`` marker, before the ``before`` text, or at its end,
in that order of preference; a missing doc starts from ``title``.
"""

from __future__ import annotations

from pathlib import Path


def put_section(path, block: str, begin: str, end: str, *, after: str | None = None,
                before: str | None = None, title: str = "") -> None:
    """Put ``block`` (which starts with ``begin`` and ends with ``end``) into the doc at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = path.read_text() if path.exists() else title
    if begin in doc and end in doc[doc.index(begin):]:
        i = doc.index(begin)
        j = doc.index(end, i) + len(end)
        doc = doc[:i] + block + doc[j:]
    elif after is not None and after in doc:
        i = doc.index(after) + len(after)
        doc = doc[:i] + "\n\n" + block + doc[i:]
    elif before is not None and before in doc:
        doc = doc.replace(before, block + "\n\n" + before, 1)
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(doc)
