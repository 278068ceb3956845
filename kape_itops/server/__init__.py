"""``itops server``: the HTTP API over the central database (FastAPI on uvicorn).

:func:`kape_itops.server.app.create_app` builds the application; :mod:`.run` serves it.
"""
