"""Case numbers read back: which kind, day and sequence a number such as BX20230105-0003 stands
for under the configured NUMBER_FORMAT and prefixes (numbering.next_number writes them).

An imported number in this format raises its (kind, day) counter, so the next case registered
on that day gets the next free number instead of colliding with the imported one.
"""

import datetime as dt
import re
import string
from dataclasses import dataclass

from ..numbering import settings as numbering_settings

#: strftime directives a number's date may use, as the digits they stand for.
DATE_DIRECTIVES = {"Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{2}", "d": r"\d{2}"}


@dataclass(frozen=True)
class Parsed:
    kind: str
    day: dt.date
    seq: int


class NumberFormat:
    def __init__(self):
        conf = numbering_settings()
        self.template = conf["NUMBER_FORMAT"]
        self.prefixes = dict(conf["NUMBER_PREFIXES"])
        self.patterns = {kind: _pattern(self.template, prefix) for kind, prefix in self.prefixes.items()}

    def parse(self, number):
        """The readings of ``number``, one per kind whose format it fits (kinds may share a
        prefix); none for a number in any other form, which is kept as it is but raises no
        counter."""
        found = []
        for kind, pattern in self.patterns.items():
            if pattern is None:
                continue
            regex, date_format = pattern
            match = regex.match(number)
            if match is None:
                continue
            try:
                day = dt.datetime.strptime(match["date"], date_format).date()
            except ValueError:
                continue
            found.append(Parsed(kind, day, int(match["seq"])))
        return found

    def format(self, kind, day, seq):
        return self.template.format(prefix=self.prefixes[kind], date=day, seq=seq)


def _pattern(template, prefix):
    """(regex, date format) for one kind's numbers, or None when the template uses a field or
    date directive this reader does not know (then imported numbers raise no counter)."""
    parts, date_format, has_seq = [], None, False
    for literal, name, spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name == "prefix":
            parts.append(re.escape(prefix))
        elif name == "date":
            regex = _date_regex(spec)
            if regex is None:
                return None
            date_format = spec
            parts.append(f"(?P<date>{regex})")
        elif name == "seq":
            has_seq = True
            parts.append(r"(?P<seq>\d+)")
        else:
            return None
    if date_format is None or not has_seq:
        return None
    return re.compile("".join(parts) + r"\Z"), date_format


def _date_regex(spec):
    parts, chars = [], iter(spec or "")
    for char in chars:
        if char != "%":
            parts.append(re.escape(char))
            continue
        directive = next(chars, "")
        if directive not in DATE_DIRECTIVES:
            return None
        parts.append(DATE_DIRECTIVES[directive])
    return "".join(parts) or None
