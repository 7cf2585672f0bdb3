"""Plain text out of rich text and StreamFields, and highlighted result snippets.

The same text feeds the search index (through ``search.segment.index_text``) and the snippets
on the results page, so a word that is found is also a word that can be shown. Nothing here
touches the database: StreamField text is read from the raw JSON with the block definitions,
without rendering templates or loading images.
"""

import re

from django.utils.html import escape
from django.utils.safestring import mark_safe
from wagtail import blocks
from wagtail.rich_text import RichText, get_text_for_indexing

_SPACE_RE = re.compile(r"\s+")


def html_to_text(html):
    """Plain text of rich text (a RichTextField value or a RichText); entities decoded."""
    if isinstance(html, RichText):
        html = html.source
    return get_text_for_indexing(str(html or ""))


def join_text(*parts):
    return _SPACE_RE.sub(" ", " ".join(str(part) for part in parts if part)).strip()


def _block_text(block, raw, out):
    if raw is None:
        return
    if isinstance(block, blocks.StreamBlock):
        for item in raw:
            if isinstance(item, dict):
                child, value = block.child_blocks.get(item.get("type")), item.get("value")
            else:  # (type, value) pairs
                child, value = block.child_blocks.get(item[0]), item[1]
            if child is not None:
                _block_text(child, value, out)
    elif isinstance(block, blocks.ListBlock):
        for item in raw:
            if block._item_is_in_block_format(item):
                item = item["value"]
            _block_text(block.child_block, item, out)
    elif isinstance(block, blocks.StructBlock):
        if isinstance(raw, dict):
            for name, child in block.child_blocks.items():
                _block_text(child, raw.get(name), out)
    elif isinstance(block, blocks.RichTextBlock):
        out.append(html_to_text(raw))
    elif isinstance(block, (blocks.CharBlock, blocks.TextBlock)):
        if isinstance(raw, str):
            out.append(raw)
    # Choosers (images, documents, pages), dates, booleans and choices carry no readable text.


def stream_text(value):
    """Plain text of a StreamField value: headings, paragraphs, captions, alt texts."""
    if not value:
        return ""
    out = []
    _block_text(value.stream_block, value.get_prep_value(), out)
    return join_text(*out)


def highlight(text, terms, length=100, before=24):
    """HTML-escaped plain ``text`` with each occurrence of ``terms`` wrapped in <mark> (matched
    case-insensitively, longest first). With a ``length``, only an excerpt of that many
    characters, starting a little ``before`` the first term found."""
    text = _SPACE_RE.sub(" ", str(text or "")).strip()
    pattern = None
    if terms:
        pattern = re.compile(
            "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE
        )
    first = pattern.search(text) if pattern else None
    start = max(first.start() - before, 0) if first and length else 0
    end = min(start + length, len(text)) if length else len(text)
    excerpt = text[start:end]
    pieces, last = [], 0
    for match in pattern.finditer(excerpt) if pattern else ():
        pieces.append(escape(excerpt[last : match.start()]))
        pieces.append(f"<mark>{escape(match.group())}</mark>")
        last = match.end()
    pieces.append(escape(excerpt[last:]))
    html = "".join(pieces)
    if start > 0:
        html = "…" + html
    if end < len(text):
        html += "…"
    return mark_safe(html)
