#!/bin/sh
# The labs' datastore node: a one-member etcd (Debian's etcd-server) serving clients on every
# address of the node (bound to /etc/etcd/start.sh, run by the etcd node's last exec line).
# Its data is in /var/lib/etcd, a tmpfs of the node: a redeploy starts with an empty store.
# Log: /var/log/etcd/etcd.log.
etcd --name lab --data-dir /var/lib/etcd/lab \
  --listen-client-urls http://0.0.0.0:2379 --advertise-client-urls "http://${1:?usage: etcd-start.sh ADDRESS}:2379" \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster lab=http://127.0.0.1:2380 >>/var/log/etcd/etcd.log 2>&1 &
