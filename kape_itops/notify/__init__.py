"""Alerts from the server: new problems (flap-suppressed) to Telegram and e-mail.

:class:`~kape_itops.notify.service.Notifier` runs one round; :mod:`kape_itops.notify.loop`
runs rounds in the background of the server. No front-end imports here.
"""
