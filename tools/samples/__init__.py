"""The sample-data generators: ``python -m tools.samples.inventory`` and ``… .quotes``.

Each is deterministic (the same files on every run) and reads its tables from YAML data next to
it (:func:`tools.samples.common.load_data`), so the samples change by editing data.
"""
