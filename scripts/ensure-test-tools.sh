#!/usr/bin/env sh
# Installs the real tools the end-to-end tests use when they are missing: dig and kdig, and for
# the cluster tests etcd, ip, nft, arping, ping and openssl; for the local balancer keepalived,
# conntrackd and conntrack; unbound (a real recursive resolver), curl, and Debian's chromium for
# the dashboard test.
# Needs root and Debian's apt; says what is missing otherwise.
set -eu
missing=""
command -v dig > /dev/null 2>&1 || missing="$missing bind9-dnsutils"
command -v kdig > /dev/null 2>&1 || missing="$missing knot-dnsutils"
command -v etcd > /dev/null 2>&1 || missing="$missing etcd-server"
command -v ip > /dev/null 2>&1 || missing="$missing iproute2"
command -v nft > /dev/null 2>&1 || missing="$missing nftables"
command -v arping > /dev/null 2>&1 || missing="$missing iputils-arping"
command -v ping > /dev/null 2>&1 || missing="$missing iputils-ping"
command -v openssl > /dev/null 2>&1 || missing="$missing openssl"
command -v keepalived > /dev/null 2>&1 || missing="$missing keepalived"
command -v conntrackd > /dev/null 2>&1 || missing="$missing conntrackd"
command -v conntrack > /dev/null 2>&1 || missing="$missing conntrack"
command -v unbound > /dev/null 2>&1 || missing="$missing unbound"
command -v curl > /dev/null 2>&1 || missing="$missing curl"
command -v chromium > /dev/null 2>&1 || missing="$missing chromium"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null 2>&1; then
  echo "ensure-test-tools: missing Debian packages:$missing (install them as root)" >&2
  exit 1
fi
echo "ensure-test-tools: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q > /dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing > /dev/null
