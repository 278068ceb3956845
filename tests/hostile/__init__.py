"""Hostile-input corpus: generators of files built to exhaust, confuse or crash a reader.

One module per area (XLSX bombs, YAML documents, inventory files, ...); every reader's tests
feed it the whole corpus of its format and expect a clear one-line refusal within bounds.
"""
