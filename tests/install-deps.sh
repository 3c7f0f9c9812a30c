#!/usr/bin/env bash
# Installs, from Debian 12's archive, everything blockd needs to build, test and run its labs.
set -euo pipefail
packages=(
  cmake ninja-build g++ clang libclang-rt-14-dev pkg-config
  libnl-3-dev libnl-route-3-dev libboost-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev libsqlite3-dev
  libnftables-dev libssl-dev
  dpkg-dev help2man systemd   # the package: dpkg-shlibdeps, man pages, systemd-analyze verify
  bird2 frr gobgpd etcd-server etcd-client containernetworking-plugins iproute2 nftables
  tshark iputils-ping python3-yaml python3-jsonschema python3-pytest sqlite3 procps psmisc
  python3-matplotlib   # tests/bench/run.sh --report: the plots
  docker.io debootstrap
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
