#!/bin/sh
# Called with the old and the new role; logs the change (a real hook might start or stop a
# service, page someone, or update a firewall).
echo "$(date -u +%FT%TZ) $STEERDNS_NODE: $1 -> $2 (epoch $STEERDNS_EPOCH, $STEERDNS_REASON)" >> "${STEERDNS_HOOK_LOG:-/tmp/steerdns-cluster-example.log}"
