"""Chinese word segmentation for the portal's search (STACK-NOTES §4).

Neither Wagtail database backend splits CJK text into words, so both the indexed text and the
query are cut with jieba. jieba's dictionary cache goes to the project's data folder, not the
system temp folder.
"""

import logging
import re
import threading

from django.conf import settings
from django.utils.html import strip_tags

_lock = threading.Lock()
_tokenizer = None
_SPACE_RE = re.compile(r"\s+")


def _jieba():
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                cache_dir = settings.DATA_DIR / "cache"
                cache_dir.mkdir(parents=True, exist_ok=True)
                tokenizer = jieba.Tokenizer()
                tokenizer.tmp_dir = str(cache_dir)
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def words(text):
    """The search words of ``text`` (HTML stripped): jieba's search-mode cut, no blanks or
    punctuation."""
    text = _SPACE_RE.sub(" ", strip_tags(text or "")).strip()
    if not text:
        return []
    return [w for w in _jieba().cut_for_search(text) if w.strip() and re.search(r"\w", w)]


def segment(text):
    """``text`` as space-separated words, for an index field or a query."""
    return " ".join(words(text))
