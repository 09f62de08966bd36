#!/bin/sh
# The seed's state scripts, one for all four: arguments are the old and the new state.
echo "$(date +%T.%N | cut -c1-12) $STEERDNS_NODE $1 -> $2 ($STEERDNS_REASON)" >> /tmp/steerdns-lb-example/states.log
