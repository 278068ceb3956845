"""Write (or extend) a Khmer catalogue from a two-column TSV: English<TAB>Khmer.

    python tools/po_from_tsv.py core /tmp/core.tsv   # -> kape_itops/i18n/locale/km/LC_MESSAGES/core.po
Entries already in the catalogue are replaced by the TSV's; others are kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

LOCALE = Path(__file__).resolve().parent.parent / "kape_itops" / "i18n" / "locale"


def main(area: str, tsv: str) -> int:
    po = LOCALE / "km" / "LC_MESSAGES" / f"{area}.po"
    if po.exists():
        with po.open("rb") as fh:
            catalog = read_po(fh, locale="km")
    else:
        po.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale="km", project="kape-itops", domain=area)
    for n, line in enumerate(Path(tsv).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        english, _, khmer = line.partition("\t")
        if not khmer.strip():
            print(f"{tsv}:{n}: no Khmer text", file=sys.stderr)
            return 1
        catalog.add(english, khmer.strip())
    with po.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True, omit_header=False)
    print(f"{po}: {len(catalog)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
