"""Translations: compile the Khmer catalogues and check that every message has one.

    python tools/i18n.py compile   # every locale/*/LC_MESSAGES/*.po -> .mo (Babel)
    python tools/i18n.py check     # exit 1 naming each message with no translation,
                                   # a stale .mo, or a fuzzy/unused entry
    python tools/i18n.py missing   # the untranslated messages as .po entries to fill in

Messages are found with Babel's extractors: ``_()``/``gettext()``/``{% trans %}`` in every
``kape_itops/**/*.j2`` and ``_()``/``N_()``/``marker()``/``gettext(lang, ...)`` in the
package's Python.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kape_itops"
LOCALE = PACKAGE / "i18n" / "locale"
LANGS = ("km",)
PY_KEYWORDS = {
    "_": None,
    "N_": None,
    "marker": None,
    "gettext": (2,),
    "ngettext": (2, 3),
    "tr": (2,),
}
JINJA_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trimmed": "true"}


def _key(msg: str | tuple[str, ...]) -> str:
    return msg[0] if isinstance(msg, tuple) else msg


def messages() -> Iterator[tuple[str, str, int]]:
    """(msgid, file, line) of every message marked for translation in the package."""
    for path in sorted(PACKAGE.rglob("*.j2")):
        for line, msg, _c, _x in extract_from_file(
            "jinja2.ext:babel_extract", path, keywords=JINJA_KEYWORDS, options=JINJA_OPTIONS
        ):
            yield _key(msg), str(path.relative_to(ROOT)), line
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts or path.is_relative_to(PACKAGE / "lab"):
            continue
        for line, msg, _c, _x in extract_from_file("python", path, keywords=PY_KEYWORDS):
            if msg and _key(msg):
                yield _key(msg), str(path.relative_to(ROOT)), line


def catalogues(lang: str) -> list[tuple[Path, Catalog]]:
    """Every ``.po`` of ``lang``, read."""
    found = []
    for po in sorted((LOCALE / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            found.append((po, read_po(fh, locale=lang)))
    return found


def mo_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compile_all() -> int:
    for lang in LANGS:
        for po, catalog in catalogues(lang):
            po.with_suffix(".mo").write_bytes(mo_bytes(catalog))
            print(f"{po.relative_to(ROOT)} -> .mo ({len(catalog)} messages)")
    return 0


def problems() -> list[str]:
    """Every missing translation, stale .mo, fuzzy entry, or a message two catalogues translate differently, in words."""
    found: list[str] = []
    wanted: dict[str, str] = {}
    for msgid, file, line in messages():
        wanted.setdefault(msgid, f"{file}:{line}")
    for lang in LANGS:
        have: dict[str, tuple[Path, str]] = {}
        for po, catalog in catalogues(lang):
            mo = po.with_suffix(".mo")
            if not mo.is_file() or mo.read_bytes() != mo_bytes(catalog):
                found.append(f"{mo.relative_to(ROOT)} is stale: run tools/i18n.py compile")
            for entry in catalog:
                key = _key(entry.id)
                if not key:
                    continue
                text = entry.string if isinstance(entry.string, str) else entry.string[0]
                if entry.fuzzy or not text:
                    found.append(f"{po.relative_to(ROOT)}: '{key}' has no {lang} translation")
                elif key in have and have[key][1] != text:
                    other = have[key][0].name
                    found.append(f"'{key}' is translated differently in {other} and {po.name}")
                else:
                    have[key] = (po, text)
        for msgid, where in sorted(wanted.items()):
            if msgid not in have:
                found.append(f"{where}: '{msgid}' has no {lang} translation")
    return found


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "compile":
        return compile_all()
    if command == "missing":
        for line in problems():
            print(line)
        return 0
    if command == "check":
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        return 1 if found else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
