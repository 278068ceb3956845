#!/usr/bin/env bash
# The main job on built-in defaults: SQLite (./itops.db), the sample data, the simulated
# school network. Everything it writes goes to ./itops.db, ./.itops-lab/ and ./out/.
# The lab is stopped at the end; KEEP_LAB=1 leaves it running to explore (itops lab down).
# Then (tools/demo_twotier.sh; TWO_TIER=0 skips it) the two-tier flow on the same lab: a
# server, a collector per school behind its own simulated link, one link cut and restored.
set -euo pipefail
cd "$(dirname "$0")/.."
ITOPS=.venv/bin/itops
# tables written to out/*.txt use this width (rich uses 80 columns when not on a terminal)
export COLUMNS="${COLUMNS:-$(tput cols 2>/dev/null || echo 120)}"
mkdir -p out

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "database"
$ITOPS init
step "inventory: import the 12 sample schools (a second import changes nothing)"
$ITOPS inventory import inventory/
$ITOPS inventory summary
$ITOPS inventory warranty --within 30d

step "simulated school network (namespaces as root, loopback otherwise)"
$ITOPS lab up
[ "${KEEP_LAB:-0}" = 1 ] || trap '$ITOPS lab down >/dev/null 2>&1 || true' EXIT
# The lab writes the logins of its simulators and their SSH host keys here:
export ITOPS_SECRETS=.itops-lab/secrets.toml ITOPS_KNOWN_HOSTS=.itops-lab/known_hosts

step "probe every device: ping, SNMP, ONVIF, SSH (exit code: Nagios convention)"
code=0
$ITOPS probe run --lab --prom out/itops.prom > out/probe-run.txt || code=$?
head -n 45 out/probe-run.txt
echo "… the whole table is in out/probe-run.txt (exit code $code: the lab plants problems on purpose)"
step "a second round, so the report has trends and reboot/counter checks have history"
$ITOPS probe run --lab >/dev/null || true
step "configuration backups of routers and switches over SSH"
$ITOPS ssh backup --lab > out/ssh-backup.txt || true
head -n 25 out/ssh-backup.txt

step "quotation scoring: laptops for the computer labs"
$ITOPS quote score quotes/laptop --report out/quote-laptop.html || true

step "health report (each device counts from its first result; devices in repair are listed apart)"
$ITOPS report health --since 1d --html out/health-report.html --title "KAPE schools: health check (demo)"
$ITOPS report problems > out/problems.txt || true
head -n 30 out/problems.txt

# Two tiers on the same lab: a server, a collector per school, one school's link cut a while.
[ "${TWO_TIER:-1}" = 0 ] || bash tools/demo_twotier.sh

step "done"
echo "open out/health-report.html and out/quote-laptop.html; metrics for Prometheus in out/itops.prom"
[ "${TWO_TIER:-1}" = 0 ] || echo "two tiers: out/central-report.html (the server's report), out/collectors/"
