#!/usr/bin/env bash
# Install the Debian packages the functional tests and benchmarks use, when missing.
set -euo pipefail
pkgs=(postgresql snmpd snmp openssh-server openssh-client fping iputils-ping iproute2 chromium fonts-khmeros systemd)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "sysdeps: missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "sysdeps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts services on install; the tests start their own on private ports.
  for s in postgresql snmpd ssh; do systemctl stop "$s" 2>/dev/null || service "$s" stop 2>/dev/null || true; done
fi
