#!/usr/bin/env bash
# The include graph matches the layering (ARCHITECTURE.md, "Layers"): each folder's sources
# include only the project headers below it. Fails naming every include that crosses a layer.
# Usage: includes_test.sh SOURCE_DIR
set -euo pipefail
cd "${1:?usage: includes_test.sh SOURCE_DIR}"

# folder (its files, not its subfolders') -> the project folders it may include from
declare -A allowed=(
  [ipam/net]='ipam/net'
  [ipam/resources]='ipam/net ipam/resources'
  [ipam/store]='ipam/net ipam/store'
  [ipam]='ipam/net ipam/resources ipam/store ipam'
  [bfd]='ipam/net bfd'
  [bgp/codec]='ipam/net bgp/codec'
  [bgp]='ipam/net bgp/codec bgp'
  [netlink]='ipam/net netlink'
  [agent]='ipam/net ipam/resources ipam/store ipam bfd bgp/codec bgp netlink agent'
  [agent/blockctl]='ipam/net ipam/resources ipam/store ipam bfd bgp/codec bgp netlink agent agent/blockctl'
  [agent/cni]='ipam/net agent agent/cni'
)

checked=0
violations=0
for folder in "${!allowed[@]}"; do
  for file in "$folder"/*.hpp "$folder"/*.cpp; do
    [ -e "$file" ] || continue
    checked=$((checked + 1))
    while IFS= read -r header; do
      # Only the project's own headers ("agent/...", "ipam/...", "tests/..."); <...> is external.
      case $header in agent/* | bfd/* | bgp/* | netlink/* | ipam/* | tests/*) ;; *) continue ;; esac
      ok=0
      for dir in ${allowed[$folder]}; do
        [ "${header%/*}" = "$dir" ] && ok=1  # not $(dirname): a fork per include
      done
      if [ $ok -eq 0 ]; then
        echo "$file includes \"$header\": $folder may include only from ${allowed[$folder]}" >&2
        violations=$((violations + 1))
      fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
  done
done
[ $checked -gt 50 ] || { echo "only $checked files found: wrong SOURCE_DIR?" >&2; exit 1; }
echo "$checked files, $violations includes across layers"
[ $violations -eq 0 ]
