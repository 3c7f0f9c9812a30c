#!/usr/bin/env bash
# Checks that a fuzz target links none of the named dependencies: the BGP decoder's fuzzer must
# not pull in a datastore, YAML or Asio (ARCHITECTURE.md, "Layers"). A shared library shows up as
# a NEEDED entry, a static or header-only one (Boost.Asio) as symbols.
# Usage: links_test.sh BINARY sqlite|yaml|asio...
set -euo pipefail
binary=${1:?usage: links_test.sh BINARY sqlite|yaml|asio...}
shift
[ -x "$binary" ] || { echo "no executable $binary" >&2; exit 1; }
needed=$(readelf -d "$binary" | awk '/NEEDED/ {print $NF}')
symbols=$(nm -C "$binary")
[ -n "$symbols" ] || { echo "$binary has no symbol table" >&2; exit 1; }
status=0
for dep in "$@"; do
  case $dep in
    sqlite) library='libsqlite3'; symbol='sqlite3_' ;;
    yaml) library='libyaml-cpp'; symbol='YAML::' ;;
    asio) library='libboost_'; symbol='boost::asio::' ;;
    *) echo "unknown dependency $dep" >&2; exit 1 ;;
  esac
  if grep -F "$library" <<<"$needed"; then
    echo "$binary links $library" >&2
    status=1
  fi
  if grep -m3 -F "$symbol" <<<"$symbols"; then
    echo "$binary holds $symbol symbols" >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "$(basename "$binary") links none of: $*"
exit $status
