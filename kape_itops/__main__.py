"""``python -m kape_itops`` runs the CLI."""

from kape_itops.cli import main

main()
