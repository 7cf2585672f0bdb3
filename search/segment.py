"""Chinese word segmentation for the portal's search (STACK-NOTES §4, ARCHITECTURE decision 11).

Neither Wagtail database backend splits CJK text into words: a run of Chinese characters between
punctuation marks is stored as one token. So the indexed text and the query are both cut here:

* ``index_text()`` builds what a ``SearchField`` stores: jieba's search-mode words plus every CJK
  character and every pair of adjacent CJK characters (unigrams and bigrams).
* ``parse_query()`` turns what an owner typed into a search query that needs every word:
  either all of jieba's words of the query, or all of its CJK bigrams (so "物业费" still finds
  "物业费用", which jieba cuts differently). A single Chinese character finds it anywhere.
* ``autocomplete_text()`` builds an ``AutocompleteField`` for titles: the words plus every suffix
  of each CJK run, so the admin's prefix (autocomplete) search finds any substring of a title.

jieba's dictionary cache goes to ``settings.DATA_DIR / "cache"``, never to the system temp folder.
All text is NFKC-normalised first, so full-width "３号楼" and "3号楼" are the same.
"""

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings

_lock = threading.Lock()
_tokenizer = None

MAX_QUERY_LENGTH = 100
# Longest title suffix stored for the admin's prefix search (a longer query is rarely typed).
AUTOCOMPLETE_SUFFIX_LENGTH = 30

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_CJK_RUN_RE = re.compile(f"[{_CJK}]+")
_CJK_CHAR_RE = re.compile(f"[{_CJK}]")
_MIXED_RE = re.compile(f"[{_CJK}]+|[^{_CJK}]+")  # splits "3号楼" into "3" and "号楼"
# Letters and digits only: what both databases' tokenizers keep. "C++" -> "C", "100%" -> "100".
_TOKEN_RE = re.compile(r"[^\W_]+")
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


def warm_up():
    """Load the dictionary now rather than on the first text segmented (config/startup.py)."""
    _jieba()


def normalize(text):
    """NFKC, control characters (NUL included: PostgreSQL refuses it) as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    return _SPACE_RE.sub(" ", text).strip()


def words(text):
    """jieba's search-mode words of plain ``text``: letters and digits only, no punctuation,
    emoji or blanks."""
    text = normalize(text)
    if not text:
        return []
    out = []
    for word in _jieba().cut_for_search(text):
        out.extend(_TOKEN_RE.findall(word))
    return out


def script_pieces(text):
    """The runs of letters and digits of ``text``, each cut where CJK meets other letters or
    digits: "Leak at 3号楼" -> ["Leak", "at", "3", "号楼"]. Databases' tokenizers keep "3号楼"
    whole, so a column meant for them stores the pieces apart."""
    return [part for token in _TOKEN_RE.findall(text) for part in _MIXED_RE.findall(token)]


def is_cjk(piece):
    """Whether ``piece`` (one of ``script_pieces``) is Chinese characters."""
    return bool(_CJK_CHAR_RE.match(piece))


def bigrams(run):
    """Each pair of adjacent characters of ``run``: "卫生间" -> ["卫生", "生间"]."""
    return [run[i : i + 2] for i in range(len(run) - 1)]


def _grams(text):
    """Every CJK character and every pair of adjacent CJK characters of ``text``."""
    for run in _CJK_RUN_RE.findall(text):
        yield from run
        for i in range(len(run) - 1):
            yield run[i : i + 2]


def segment(text):
    """``text`` as space-separated jieba words."""
    return " ".join(words(text))


def index_text(*parts):
    """What a ``SearchField`` stores for the plain-text ``parts``: jieba words, then CJK
    unigrams and bigrams, space-separated."""
    text = normalize(" ".join(str(part) for part in parts if part))
    if not text:
        return ""
    return " ".join([*words(text), *_grams(text)])


def autocomplete_text(title):
    """What an ``AutocompleteField`` stores for a title: its words plus each suffix of each CJK
    run (at most AUTOCOMPLETE_SUFFIX_LENGTH characters), so that a prefix search of any
    substring finds it: "漏水" matches the token "漏水怎么办" of "卫生间漏水怎么办"."""
    text = normalize(title)
    suffixes = [
        run[i : i + AUTOCOMPLETE_SUFFIX_LENGTH]
        for run in _CJK_RUN_RE.findall(text)
        for i in range(len(run))
    ]
    return " ".join([*words(text), *suffixes])


def _unique(items):
    return list(dict.fromkeys(items))


@dataclass
class ParsedQuery:
    """What an owner typed, cleaned, and the search query built from it."""

    raw: str = ""
    text: str = ""  # normalised, at most MAX_QUERY_LENGTH characters
    truncated: bool = False
    words: list = field(default_factory=list)  # jieba's words
    grams: list = field(default_factory=list)  # CJK bigrams (unigram for a lone character), other tokens

    @property
    def searchable(self):
        return bool(self.words or self.grams)

    def search_query(self):
        """A modelsearch query needing all words: jieba's words OR the CJK bigrams."""
        from wagtail.search.query import Or, PlainText

        branches = _unique([" ".join(terms) for terms in (self.words, self.grams) if terms])
        queries = [PlainText(branch, operator="and") for branch in branches]
        if not queries:
            return None
        return queries[0] if len(queries) == 1 else Or(queries)

    def highlight_terms(self):
        """Strings to mark in snippets, longest first: each run of letters and digits of the
        query ("3号楼"), its CJK and other parts, and jieba's words; single characters only
        when nothing longer was typed."""
        pieces = _TOKEN_RE.findall(self.text)
        for piece in list(pieces):
            pieces.extend(_MIXED_RE.findall(piece))
        pieces.extend(self.words)
        terms = [t for t in pieces if len(t) > 1] or pieces
        return sorted(_unique(terms), key=len, reverse=True)


def parse_query(raw):
    raw = str(raw or "")
    text = normalize(raw)
    truncated = len(text) > MAX_QUERY_LENGTH
    text = text[:MAX_QUERY_LENGTH].strip()
    query_words = _unique(words(text))
    grams = []
    for piece in _TOKEN_RE.findall(text):
        for part in _MIXED_RE.findall(piece):
            if _CJK_CHAR_RE.match(part):
                grams.extend([part] if len(part) == 1 else [part[i : i + 2] for i in range(len(part) - 1)])
            else:
                grams.append(part)
    return ParsedQuery(raw=raw, text=text, truncated=truncated, words=query_words, grams=_unique(grams))
