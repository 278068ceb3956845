#!/usr/bin/env bash
# The main job on built-in defaults: SQLite, the sample data, the simulated school network.
set -euo pipefail
cd "$(dirname "$0")/.."
ITOPS=.venv/bin/itops
$ITOPS init
$ITOPS inventory import inventory/
$ITOPS inventory summary
