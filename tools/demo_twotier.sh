#!/usr/bin/env bash
# The two-tier part of the demo (run by tools/demo.sh after the single-machine part, on the
# same running lab): a central server, a collector per school behind its own simulated 4G
# link, one school cut off for a while, then the central report over all twelve schools.
# Everything runs on loopback; the server and the links are lab processes that 'itops lab
# down' stops by PID. Each command is bounded by 'timeout'.
set -euo pipefail
cd "$(dirname "$0")/.."
ITOPS=.venv/bin/itops
PY=.venv/bin/python
CUT=${CUT_SCHOOL:-KEP-DCP}
SLOW=${SLOW_SCHOOL:-KSP-TTC}
mkdir -p out/collectors

step() { printf '\n\033[1m== %s\033[0m \033[2m(+%d s)\033[0m\n' "$*" "$SECONDS"; }
bounded() { timeout "${BOUND:-180}" "$@"; }

step "two tiers: a server (its own database) and a collector per school, each behind its own link"
bounded $ITOPS lab up --two-tier
SCHOOLS=$($ITOPS lab link --json | $PY -c 'import json,sys; print(" ".join(d["school"] for d in json.load(sys.stdin)))')
# a slow, lossy link for one school (300 ms each way, 2 % segment loss): it still syncs
$ITOPS lab link "$SLOW" --delay 300 --loss 2 >/dev/null
$ITOPS lab link

step "enrol every school on the server (one-time tokens); each collector joins through its link"
bounded $ITOPS lab join

step "each collector: pull its school's inventory, probe its devices, push what it measured"
collector_round() {
  local s=$1
  {
    timeout 180 $ITOPS lab on "$s" sync
    timeout 180 $ITOPS lab on "$s" probe run --lab || true
    timeout 180 $ITOPS lab on "$s" sync
  } > "out/collectors/$s.txt" 2>&1 && echo "$s: probed and synced" || echo "$s: FAILED (out/collectors/$s.txt)"
}
export -f collector_round
export ITOPS
# two collectors at a time (2 cores: a round is mostly CPU, more at once is not faster)
printf '%s\n' $SCHOOLS | xargs -P 2 -I{} bash -c 'collector_round {}'
echo "each collector's output is in out/collectors/"

step "$CUT's 4G link goes down: its collector keeps probing, its sync fails as offline"
$ITOPS lab link "$CUT" cut
for round in 1 2; do
  bounded $ITOPS lab on "$CUT" probe run --lab --only ping >/dev/null || true
  code=0
  bounded $ITOPS lab on "$CUT" sync || code=$?
  echo "round $round: probed; sync exit code $code (offline: the results wait in $CUT's own database)"
done
bounded $ITOPS lab on server server status

step "the link is back: $CUT catches up (nothing lost, nothing twice)"
$ITOPS lab link "$CUT" restore
bounded $ITOPS lab on "$CUT" sync

step "on the server: every site's last sync, backlog, clock offset, version"
bounded $ITOPS lab on server server status

step "on the server: the health report covers all twelve schools"
bounded $ITOPS lab on server report health --since 1d --json > out/central-report.json
bounded $ITOPS lab on server report health --since 1d --html out/central-report.html \
  --title "KAPE schools: central health report (demo)"
$PY - out/central-report.json <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
print(f"{'school':8} {'monitored':>9} {'up %':>6} {'down %':>6} {'no data %':>9}  name")
for s in doc["schools"]:
    a = s["availability"] or {}
    watched = sum(1 for d in s["devices"] if d["monitored"])
    print(
        f"{s['code']:8} {watched:9} {a.get('up_pct', 0):6.1f} {a.get('down_pct', 0):6.1f}"
        f" {a.get('no_data_pct', 0):9.1f}  {s['name']}"
    )
print(f"{len(doc['schools'])} schools, {len(doc['problems'])} problems in the central report")
PYEOF
echo "two-tier part took ${SECONDS} s; the server's report: out/central-report.html (.json)"
