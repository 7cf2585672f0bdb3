"""Segmentation, query parsing, plain text and highlighting: no database needed."""

import tempfile

from search import segment
from search.segment import autocomplete_text, index_text, parse_query, words
from search.text import highlight, html_to_text


def test_jieba_words_are_letters_and_digits_only():
    assert words("卫生间漏水怎么办？") == ["卫生", "卫生间", "漏水", "怎么", "怎么办"]
    assert words("Water leak, 100% C++!") == ["Water", "leak", "100", "C"]
    assert words("🙂！？。……") == []


def test_full_width_characters_are_normalised():
    assert words("３号楼") == words("3号楼") == ["3", "号楼"]


def test_index_text_holds_words_and_cjk_unigrams_and_bigrams():
    tokens = index_text("物业费用").split()
    assert {"物业", "费用"} <= set(tokens)  # jieba's words
    assert {"物", "业", "费", "用", "业费"} <= set(tokens)  # so "物业费" (业费) and "费" still match


def test_autocomplete_text_has_every_suffix_of_a_cjk_title():
    tokens = autocomplete_text("卫生间漏水怎么办？").split()
    assert "漏水怎么办" in tokens and "间漏水怎么办" in tokens and "卫生间" in tokens


def test_query_of_punctuation_or_emoji_is_not_searchable():
    for raw in ["", "   ", "！？。，", "🙂🏠", "\x00\x01", "--"]:
        query = parse_query(raw)
        assert not query.searchable and query.search_query() is None, raw


def test_query_is_capped_at_100_characters_and_control_characters_dropped():
    query = parse_query("漏" * 10_000)
    assert query.truncated and len(query.text) == segment.MAX_QUERY_LENGTH
    assert parse_query("漏水\x00").text == "漏水"


def test_two_word_query_needs_every_word_in_both_branches():
    query = parse_query("漏水 物业费")
    assert query.words == ["漏水", "物业", "物业费"]
    assert query.grams == ["漏水", "物业", "业费"]
    branches = query.search_query().subqueries
    assert [b.operator for b in branches] == ["and", "and"]
    assert [b.query_string for b in branches] == ["漏水 物业 物业费", "漏水 物业 业费"]


def test_english_query_is_one_branch():
    query = parse_query("water leak")
    assert query.search_query().query_string == "water leak"


def test_highlight_escapes_html_and_marks_terms():
    html = highlight('<script>alert("漏水")</script> & 漏水', ["漏水"], length=None)
    assert "<script>" not in html
    assert html == "&lt;script&gt;alert(&quot;<mark>漏水</mark>&quot;)&lt;/script&gt; &amp; <mark>漏水</mark>"


def test_highlight_excerpt_starts_near_the_first_match():
    text = "甲" * 200 + "卫生间漏水" + "乙" * 200
    html = highlight(text, ["漏水"], length=60, before=10)
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>漏水</mark>" in html and len(html.replace("<mark>", "").replace("</mark>", "")) == 62


def test_highlight_is_case_insensitive_and_longest_first():
    assert highlight("Water LEAK", ["leak"], length=None) == "Water <mark>LEAK</mark>"
    assert highlight("卫生间漏水", ["卫生间漏水", "漏水"], length=None) == "<mark>卫生间漏水</mark>"


def test_rich_text_becomes_spaced_plain_text():
    assert html_to_text("<p>first</p><p>second &amp; more</p>") == "first second & more"


def test_jieba_cache_is_written_under_data_dir_not_the_system_temp_folder(tmp_path, settings, monkeypatch):
    data_dir, system_tmp = tmp_path / "data", tmp_path / "system-tmp"
    system_tmp.mkdir()
    settings.DATA_DIR = data_dir
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.setattr(segment, "_tokenizer", None)  # restored afterwards by monkeypatch

    assert words("交房时需要带哪些材料") == ["交房", "时", "需要", "带", "哪些", "材料"]

    assert (data_dir / "cache" / "jieba.cache").stat().st_size > 1_000_000
    assert list(system_tmp.iterdir()) == []
    assert segment._tokenizer.tmp_dir == str(data_dir / "cache")
