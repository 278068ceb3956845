"""The scoring steps, in the order the README lists them, each a pure module.

1. :mod:`.responsiveness`: expired, late, duplicate vendors, missing lot items set aside;
2. :mod:`.arithmetic`: every line's arithmetic checked and corrected;
3. and 4. :mod:`.pricing`: conversion at the stated rate and VAT on one basis (the price trail);
5. :mod:`.compliance`: every requirement on every technical line, and the lot's verdict;
6. :mod:`.flags`: abnormally low prices and too few quotations;
7. :mod:`.ranking` and :mod:`.award`: ranking with the tie-break rules, then the award per lot.

:mod:`.state` holds the two working records the steps pass along;
:func:`kape_itops.quotes.evaluate.evaluate` runs the steps.
"""
