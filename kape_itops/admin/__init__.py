"""Looking after the database itself: schema, retention and sizes (``itops init``, ``itops db``)."""
