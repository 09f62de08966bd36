#!/usr/bin/env bash
# One-time setup for bench/run.sh on a fresh Debian 12 machine, as root: the DNS servers and
# tools from Debian, the npm package dns2 for the optional node-dns2 baseline (into a scratch
# folder), and the repository's own npm dependencies if they are missing (run.sh builds
# steerdns with `npm run build`). Node.js >= 20 must already be installed.
#
# Starts no service: run.sh starts every server by hand. Where the packages' postinst
# scripts enable their systemd units, they are disabled again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

[ "$(id -u)" = 0 ] || {
  echo "install.sh: run as root" >&2
  exit 1
}
command -v node > /dev/null || {
  echo "install.sh: Node.js >= 20 is required (not installed here)" >&2
  exit 1
}

apt-get update
apt-get install -y --no-install-recommends \
  dnsperf knot knot-dnsutils gdnsd pdns-server pdns-backend-bind bind9-dnsutils \
  procps iproute2 util-linux gzip
# the packages' postinst may enable their units (nothing runs without systemd here): undo that
systemctl disable pdns.service knot.service gdnsd.service > /dev/null 2>&1 || true

# npm dns2 for the node-dns2 baseline (not in the default set); dns-packet (node-dnspacket)
# comes from the repository's devDependencies
NPM_DIR=${DNSBENCH_NPM_DIR:-/tmp/dnsbench-npm}
mkdir -p "$NPM_DIR"
(
  cd "$NPM_DIR"
  [ -f package.json ] || npm init -y > /dev/null
  npm install --no-audit --no-fund dns2@3.0.0
)

if [ ! -x "$ROOT/node_modules/.bin/tsc" ]; then
  (cd "$ROOT" && npm ci --no-audit --no-fund)
fi
echo "install.sh: done; run: npm run bench   (or: bash bench/run.sh)"
