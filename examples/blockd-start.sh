#!/bin/sh
# A lab node's blockd (bound to /etc/blockd/start.sh, run by the node's last exec line and by
# tests that restart it). The datastore is another node (etcd): containerlab runs the nodes'
# exec lines in parallel, so blockd starts once its datastore answers, as a supervisor with a
# dependency would start it; the lab's steps wait for the BGP sessions.
# Log: /var/log/blockd/blockd.log.
(
  until blockctl --config /etc/blockd/blockd.yaml get nodes >/dev/null 2>&1; do sleep 0.5; done
  exec blockd --config /etc/blockd/blockd.yaml
) >>/var/log/blockd/blockd.log 2>&1 &
