"""How cron and systemd read what ``itops schedule install`` writes, modelled from their sources.

Written independently of :mod:`kape_itops.reports.schedule`, strict where the real parsers are
lenient (a stray ``%``, ``$`` or mid-word quote is an error here), so a quoting gap cannot hide:

* :func:`cron_command`: cronie/Vixie ``do_command.c``: ``\\%`` is ``%``; the first bare ``%``
  ends the command and the rest becomes its standard input.
* :func:`unit_settings`, :func:`exec_argv`, :func:`environment`: systemd.syntax(7),
  systemd.service(5) "Command lines" and ``load-fragment.c``: ``Environment=`` takes specifiers
  (``%%``, ``%h``), then splits words at whitespace (whole-word quotes, C escapes); a command
  line splits words first, then each takes specifiers, and the arguments (not the program)
  take ``$$``/``${VAR}`` at exec time.
* :func:`env_file`: the state machine of systemd's ``src/basic/env-file.c``.
"""

from __future__ import annotations

import re

SPECIFIERS = {"h": "/SPECIFIER-h", "u": "SPECIFIER-u", "n": "SPECIFIER-n", "F": "SPECIFIER-F"}
"""What a forgotten ``%h``/``%u``/``%n``/``%F`` turns into (visibly wrong, never an error)."""

_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", '"': '"', "'": "'", "s": " ",
}  # fmt: skip


class SyntaxProblem(ValueError):
    """Text the real parser would misread, warn about, or reject."""


def cron_command(field: str) -> tuple[str, str | None]:
    """A crontab command field as cron runs it: (the ``sh -c`` text, standard input or None)."""
    out: list[str] = []
    escaped = False
    for i, ch in enumerate(field):
        if escaped:
            if ch == "%":
                out[-1] = "%"
            else:
                out.append(ch)
            escaped = False
            continue
        if ch == "%":
            return "".join(out), field[i + 1 :].replace("%", "\n")
        out.append(ch)
        escaped = ch == "\\"
    return "".join(out), None


def specifiers(text: str) -> str:
    """``%%`` → ``%``, ``%h`` and friends expanded; any other ``%`` is an error."""

    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        if key == "%":
            return "%"
        if key in SPECIFIERS:
            return SPECIFIERS[key]
        raise SyntaxProblem(f"unknown specifier %{key} in {text!r}")

    return re.sub(r"%(.?)", one, text, flags=re.S)


def _escape(text: str, i: int) -> tuple[str, int]:
    """The C escape starting after the backslash at ``text[i]``: (character, next index)."""
    if i + 1 >= len(text):
        raise SyntaxProblem(f"trailing backslash in {text!r}")
    c = text[i + 1]
    if c in _ESCAPES:
        return _ESCAPES[c], i + 2
    if c == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2 : i + 4]):
        return chr(int(text[i + 2 : i + 4], 16)), i + 4
    raise SyntaxProblem(f"unknown escape \\{c} in {text!r}")


def words(text: str) -> list[str]:
    """Split like systemd's ``extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE)``.

    Quotes must wrap a whole word (systemd.syntax(7)); a lone unquoted ``;`` separates command
    lines, which this model refuses; ``\\;`` alone is a literal ``;``.
    """
    found: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return found
        if text[i] in "\"'":
            quote, i, word = text[i], i + 1, []
            while True:
                if i >= n:
                    raise SyntaxProblem(f"unbalanced quoting in {text!r}")
                if text[i] == quote:
                    i += 1
                    break
                if text[i] == "\\":
                    ch, i = _escape(text, i)
                    word.append(ch)
                else:
                    word.append(text[i])
                    i += 1
            if i < n and text[i] not in " \t":
                raise SyntaxProblem(f"closing quote not followed by whitespace in {text!r}")
            found.append("".join(word))
            continue
        start, word = i, []
        while i < n and text[i] not in " \t":
            if text[i] in "\"'":
                raise SyntaxProblem(f"quote inside a word in {text!r}")
            if text[i] == "\\":
                ch, i = _escape(text, i)
                word.append(ch)
            else:
                word.append(text[i])
                i += 1
        if text[start:i] == ";":
            raise SyntaxProblem(f"a lone ';' separates command lines in {text!r}")
        found.append("".join(word))


def dollars(word: str, env: dict[str, str]) -> str:
    """Exec-time variables: ``$$`` → ``$``, ``${VAR}`` → its value; a bare ``$`` is an error."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        if m.group(1) is not None:
            return env.get(m.group(1), "")
        raise SyntaxProblem(f"unescaped $ in {word!r}")

    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$", one, word)


def unit_settings(unit: str) -> dict[str, list[str]]:
    """Key → raw values of every ``Key=value`` line (continued lines refused)."""
    settings: dict[str, list[str]] = {}
    for line in unit.split("\n"):
        if not line.strip() or line.lstrip().startswith(("#", ";", "[")):
            continue
        if re.search(r"(?<!\\)(\\\\)*\\$", line):
            raise SyntaxProblem(f"line continues on the next one: {line!r}")
        key, sep, value = line.partition("=")
        if not sep:
            raise SyntaxProblem(f"not a setting: {line!r}")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def environment(unit: str) -> dict[str, str]:
    """The variables ``Environment=`` lines set (specifiers expanded, words unquoted)."""
    env: dict[str, str] = {}
    for raw in unit_settings(unit).get("Environment", []):
        for word in words(specifiers(raw)):
            key, sep, value = word.partition("=")
            if not sep:
                raise SyntaxProblem(f"not an assignment: {word!r}")
            env[key] = value
    return env


def exec_argv(raw: str, env: dict[str, str]) -> list[str]:
    """The argv systemd runs for one ``ExecStart=`` value (no ``-@:+!`` prefixes expected).

    As ``config_parse_exec``: words first, then specifiers in each; the program's path takes
    no variables and must hold no quote, backslash or control character ``string_is_safe``).
    """
    program, *args = (specifiers(w) for w in words(raw))
    if not program.startswith("/") or re.search(r"[\x00-\x1f\x7f'\"\\]", program):
        raise SyntaxProblem(f"systemd would refuse the program {program!r}")
    return [program, *(dollars(a, env) for a in args)]


def literal_path(raw: str) -> str:
    """``WorkingDirectory=``/``EnvironmentFile=``: specifiers only, nothing unquoted."""
    return specifiers(raw)


def env_file(text: str) -> dict[str, str]:
    """Parse an ``EnvironmentFile=`` like systemd's env-file.c (comments, quotes, escapes)."""
    env: dict[str, str] = {}
    state, key, value = "pre_key", "", ""
    newline, space, need_escape = "\n\r", " \t\n\r", '"\\`$'

    def push() -> None:
        env[key.rstrip()] = value

    for c in text:
        if state == "pre_key":
            if c in "#;":
                state = "comment"
            elif c not in space:
                state, key = "key", c
        elif state == "key":
            if c in newline:
                state, key = "pre_key", ""
            elif c == "=":
                state, value = "pre_value", ""
            else:
                key += c
        elif state in ("pre_value", "value"):
            if c in newline:
                push()
                state, key = "pre_key", ""
            elif state == "pre_value" and c == "'":
                state = "single"
            elif state == "pre_value" and c == '"':
                state = "double"
            elif c == "\\":
                state = "value_escape"
            elif state == "value" or c not in space:
                state, value = "value", value + c
        elif state == "value_escape":
            state = "value"
            if c not in newline:
                value += c
        elif state == "single":
            if c == "'":
                state = "pre_value"
            else:
                value += c
        elif state == "double":
            if c == '"':
                state = "pre_value"
            elif c == "\\":
                state = "double_escape"
            else:
                value += c
        elif state == "double_escape":
            state = "double"
            if c in need_escape:
                value += c
            elif c != "\n":
                value += "\\" + c
        elif state == "comment" and c in newline:
            state = "pre_key"
    if state in ("value", "pre_value", "value_escape", "single", "double", "double_escape"):
        push()
    return env
