#!/bin/sh
# Starts FRR (zebra, then the daemons given, default bgpd; e.g. `start.sh bfdd bgpd`) on
# /etc/frr/frr.conf, the ToR's exec line. Every file FRR makes
# (pids, zserv socket, vty sockets) goes in /var/run/frr, a tmpfs of the node: in a container its
# own, under clab-netns's namespaces a folder of the node's, so two ToRs on one host never share
# a socket and `destroy` removes them all.
# Query it with: vtysh --vty_socket /var/run/frr -c 'show bgp ipv4 unicast'
set -e
chown frr:frr /var/run/frr
for d in zebra ${*:-bgpd}; do
  /usr/lib/frr/$d -d -f /etc/frr/frr.conf -i /var/run/frr/$d.pid -z /var/run/frr/zserv.api \
    --vty_socket /var/run/frr
  # bgpd and bfdd connect to zebra's socket: wait for each to be up (its pid file) first.
  n=0
  until [ -s /var/run/frr/$d.pid ]; do
    n=$((n + 1)); [ $n -le 100 ] || { echo "frr-start.sh: $d did not start" >&2; exit 1; }
    sleep 0.1
  done
done
