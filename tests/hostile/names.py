"""Hostile folder names and database URLs for what goes into cron lines, units and messages.

``QUOTABLE`` are names a schedule must carry intact (each breaks naive quoting for ``sh``,
cron or systemd); ``REFUSED`` are names no unit or crontab line can carry (control characters,
edges systemd strips). ``PASSWORDS`` are database passwords built to survive naive masking.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus, unquote

QUOTABLE: dict[str, str] = {
    "shell_injection": "rep; touch PWNED #",
    "spaces": "my reports  dir",
    "command_substitution": "$(touch PWNED)",
    "backticks": "`touch PWNED`",
    "single_quote": "it's",
    "double_quote": 'say "hi"',
    "systemd_specifier": "%h",
    "percent_date": "50%F off",
    "backslash_percent": "a\\%b",
    "backslash": "back\\slash",
    "env_variable": "$HOME",
    "env_braces": "${HOME}x",
    "lone_semicolon": ";",
    "escaped_semicolon": "\\;",
    "leading_dash": "-rf",
    "tilde": "~root",
    "glob": "*?[a]",
    "operators": "a&b|c>d<e",
    "hash": "#not-a-comment",
    "braces": "{ x; }",
    "khmer": "របាយការណ៍",
    "mixed": "r'\"$`%h\\;# x",
}
"""Folder names (one path component each) a generated schedule must pass on unchanged."""

REFUSED: dict[str, str] = {
    "newline_unit_injection": "data\nExecStartPre=/bin/touch /tmp/PWNED",
    "newline_cron_injection": "data\n* * * * * touch /tmp/PWNED",
    "carriage_return": "data\rx",
    "tab": "da\tta",
    "escape": "\x1b[2Jdata",
    "delete": "da\x7fta",
    "c1_next_line": "da\x85ta",
    "trailing_space": "data ",
    "trailing_backslash": "data\\",
}
"""Folder names the schedule must refuse with a one-line error."""

PASSWORDS: dict[str, str] = {
    "plain": "Plain-Passw0rd",
    "url_specials": "p@ss:w/rd?#x",
    "quotes_and_shell": "q'u\"o$(x)`y`%h",
    "percent_and_spaces": "50% of sp ace",
    "unicode": "ពាក្យសម្ងាត់-9",
}
"""Passwords (at least 8 characters, none a part of the URL around it)."""


def spellings(secret: str) -> set[str]:
    """Every way ``secret`` may show up in text: as is, percent-encoded or -decoded."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), unquote(secret)}
    forms.add(quote(secret))
    return {f for f in forms if f}


def leaks(text: str, secret: str) -> list[str]:
    """The spellings of ``secret`` found in ``text`` (empty when nothing leaks)."""
    return sorted(f for f in spellings(secret) if f in text)
