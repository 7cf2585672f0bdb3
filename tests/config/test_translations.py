"""English is available for every user-facing string: the catalogue in site/locale covers what
the code marks for translation, every entry is translated, and the compiled .mo is current."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PO = REPO / "site/locale/en/LC_MESSAGES/django.po"
MO = PO.with_suffix(".mo")
ENTRY = re.compile(r'^(#, fuzzy\n)?(?:msgctxt ((?:".*"\n)+))?msgid ((?:".*"\n)+)(?:msgid_plural (?:".*"\n)+)?'
                   r'((?:msgstr.*\n(?:".*"\n)*)+)', re.M)


def unquote(lines):
    return "".join(eval(line) for line in lines.strip().splitlines())  # noqa: S307 (PO string literals)


def entries(text):
    """{msgid: (fuzzy, msgstr lines)}; an entry with a context is keyed (context, msgid)."""
    found = {}
    for match in ENTRY.finditer(text + "\n"):
        msgid = unquote(match.group(3))
        if msgid:
            key = (unquote(match.group(2)), msgid) if match.group(2) else msgid
            found[key] = (bool(match.group(1)), match.group(4))
    return found


def translated(compiled, key):
    return compiled.pgettext(*key) if isinstance(key, tuple) else compiled.gettext(key)


def test_every_entry_is_translated_and_none_is_fuzzy():
    catalogue = entries(PO.read_text(encoding="utf-8"))
    assert len(catalogue) > 400
    fuzzy = [msgid for msgid, (is_fuzzy, _) in catalogue.items() if is_fuzzy]
    empty = [msgid for msgid, (_, msgstr) in catalogue.items() if re.search(r'msgstr(\[\d\])? ""\n(?!")', msgstr)]
    assert not fuzzy, fuzzy[:10]
    assert not empty, empty[:10]


def test_compiled_catalogue_matches_the_source():
    compiled = gettext.GNUTranslations(MO.open("rb"))
    catalogue = entries(PO.read_text(encoding="utf-8"))
    stale = [key for key in catalogue if "%(" not in str(key) and translated(compiled, key) == (
        key[1] if isinstance(key, tuple) else key)]
    assert not stale, f"run `make messages`: {stale[:5]}"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed (apt-get install gettext)")
def test_catalogue_covers_every_marked_string(tmp_path):
    """makemessages on a copy of the sources finds no msgid the committed catalogue lacks."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        if name.startswith(("tests/", "bench/")) or not (REPO / name).is_file():
            continue
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, target)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(tmp_path)}
    made = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--ignore", "bench/*", "-v", "0"],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert made.returncode == 0, made.stderr[-3000:]
    fresh = entries((tmp_path / PO.relative_to(REPO)).read_text(encoding="utf-8"))
    committed = entries(PO.read_text(encoding="utf-8"))
    missing = sorted(set(fresh) - set(committed))
    assert not missing, f"untranslated strings, run `make messages` and translate: {missing[:10]}"
