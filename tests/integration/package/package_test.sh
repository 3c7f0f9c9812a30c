#!/usr/bin/env bash
# Builds the .deb with cpack from BUILD (whose programs are built) into a temporary folder and
# checks what a node would get:
#   - the file list is exactly the programs, the unit, the example configs and the man pages
#     (where help2man made them), in the folders the build was configured with;
#   - /etc/blockd/blockd.yaml is a conffile; the maintainer scripts are there;
#   - the version is the one the programs print (--version of all three);
#   - Depends (dpkg-shlibdeps) holds the package of every library the binaries link and only
#     packages of libraries they load: no -dev, GoogleTest or Google Benchmark package;
#   - the example configuration passes blockd's own validation;
#   - the unit passes `systemd-analyze verify` against the unpacked package (tests/install-deps.sh
#     installs systemd).
# Usage: package_test.sh BUILD CNI_DIR UNIT_DIR CONFIG_DIR MAN_PAGES(0|1)
set -euo pipefail
build=$1 cni_dir=$2 unit_dir=$3 config_dir=$4 man_pages=$5
tmp=$(mktemp -d /tmp/blockd-package-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

cpack --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log" >&2; exit 1; }
debs=("$tmp"/out/blockd_*_amd64.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { echo "FAIL: no single blockd_*_amd64.deb: ${debs[*]}" >&2; exit 1; }
deb=${debs[0]}
version=$(<"$build/version.txt")
echo "package: $(basename "$deb")"
[ "$(basename "$deb")" = "blockd_${version}_amd64.deb" ] || fail "file name is not blockd_${version}_amd64.deb"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version $(dpkg-deb -f "$deb" Version), expected $version"

# Files (not folders), as dpkg-deb lists them: ./usr/bin/blockd ...
expected=(
  ./usr/bin/blockd ./usr/bin/blockctl ".$cni_dir/blockd-ipam" ".$unit_dir/blockd.service"
  ".$config_dir/blockd.yaml" ./usr/share/doc/blockd/README.md ./usr/share/doc/blockd/examples/10-blockd.conflist
)
if [ "$man_pages" = 1 ]; then
  expected+=(./usr/share/man/man8/blockd.8.gz ./usr/share/man/man8/blockctl.8.gz ./usr/share/man/man8/blockd-ipam.8.gz)
fi
actual=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sort)
wanted=$(printf '%s\n' "${expected[@]}" | sort)
if [ "$actual" != "$wanted" ]; then
  fail "file list differs (< expected, > in the package):"
  diff <(echo "$wanted") <(echo "$actual") >&2 || true
fi
echo "files: $(echo "$actual" | wc -l)"

dpkg-deb -e "$deb" "$tmp/control"
[ "$(cat "$tmp/control/conffiles")" = "$config_dir/blockd.yaml" ] || fail "conffiles: $(cat "$tmp/control/conffiles")"
for script in postinst prerm postrm; do
  [ -x "$tmp/control/$script" ] || fail "no executable maintainer script $script"
  sh -n "$tmp/control/$script" || fail "$script: not valid sh"
done

# Depends against the libraries: NEEDED of each binary (direct) and everything it loads (ldd).
dpkg-deb -x "$deb" "$tmp/root"
binaries=("$tmp/root/usr/bin/blockd" "$tmp/root/usr/bin/blockctl" "$tmp/root$cni_dir/blockd-ipam")
# Each binary's libraries: NEEDED (direct) and all ldd resolves (loaded), as soname and path.
declare -A soname_path=() direct_soname=()
for bin in "${binaries[@]}"; do
  for n in $(objdump -p "$bin" | awk '$1 == "NEEDED" {print $2}'); do direct_soname[$n]=1; done
  while read -r soname path; do
    [ -n "$path" ] && [ -e "$path" ] && soname_path[$soname]=$path
  done < <(ldd "$bin" | awk '$2 == "=>" {print $1, $3}')
done
# Their packages, in one dpkg -S (usrmerge: dpkg may know a library under /lib or /usr/lib).
declare -A owner=()
paths=()
for path in "${soname_path[@]}"; do paths+=("$path" "/usr${path#/usr}" "${path#/usr}"); done
while IFS= read -r line; do
  pkg=${line%%:*} path=${line##*: }
  owner[$path]=$pkg owner[/usr${path#/usr}]=$pkg owner[${path#/usr}]=$pkg
done < <(dpkg -S "${paths[@]}" 2>/dev/null | grep -v '^diversion' || true)
# A package's names: its own and the virtual packages it provides (libspdlog1.10-fmt9).
declare -A provides=()
while read -r pkg rest; do
  provides[$pkg]=$(echo "$rest" | tr ',' '\n' | sed 's/(.*)//; s/ //g' | grep -v '^$' | tr '\n' ' ' || true)
done < <(dpkg-query -W -f='${Package} ${Provides}\n' $(printf '%s\n' "${owner[@]}" | sort -u))
declare -A direct=() loaded=()
for soname in "${!soname_path[@]}"; do
  pkg=${owner[${soname_path[$soname]}]:-UNOWNED:${soname_path[$soname]}}
  for name in "$pkg" ${provides[$pkg]:-}; do loaded[$name]=1; done
  [ -n "${direct_soname[$soname]:-}" ] && direct[$pkg]=1
done
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
declare -A declared=()
for entry in $(echo "$depends" | tr ',|' '\n\n' | sed 's/(.*)//; s/ //g' | grep -v '^$'); do
  declared[$entry]=1
done
for pkg in "${!declared[@]}"; do
  case $pkg in
    *-dev | libgtest* | libgmock* | libbenchmark* | googletest) fail "Depends has a build-only package: $pkg" ;;
  esac
  [ -n "${loaded[$pkg]:-}" ] || fail "Depends has $pkg, which provides no library the programs load"
done
for pkg in "${!direct[@]}"; do
  named=0
  for name in "$pkg" ${provides[$pkg]:-}; do [ -n "${declared[$name]:-}" ] && named=1; done
  [ "$named" = 1 ] || fail "the programs link a library of $pkg, which Depends does not name"
done
echo "libraries linked come from: $(echo "${!direct[@]}" | tr ' ' '\n' | sort | tr '\n' ' ')"

# The programs answer --version with the package's version.
for bin in "${binaries[@]}"; do
  out=$("$bin" --version | head -1)
  [ "$out" = "$(basename "$bin") $version" ] || fail "$(basename "$bin") --version: \"$out\""
done

# The example configuration loads (blockd's own validation), as shipped.
"$tmp/root/usr/bin/blockd" --config "$tmp/root$config_dir/blockd.yaml" --check-config ||
  fail "the example $config_dir/blockd.yaml does not pass blockd --check-config"

unit="$tmp/root$unit_dir/blockd.service"
grep -qx "ExecStart=/usr/bin/blockd --config $config_dir/blockd.yaml" "$unit" || fail "ExecStart is not /usr/bin/blockd: $(grep ExecStart= "$unit")"
if command -v systemd-analyze >/dev/null; then
  # The unit as installed, its programs taken from the unpacked package rather than this host.
  mkdir "$tmp/unit"
  sed "s|=/usr/bin/blockd|=$tmp/root/usr/bin/blockd|" "$unit" >"$tmp/unit/blockd.service"
  if ! systemd-analyze verify "$tmp/unit/blockd.service" >"$tmp/verify.log" 2>&1 || [ -s "$tmp/verify.log" ]; then
    fail "systemd-analyze verify blockd.service:"
    cat "$tmp/verify.log" >&2
  else
    echo "systemd-analyze verify: clean"
  fi
else
  fail "systemd-analyze is not installed (package systemd): the unit cannot be verified"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "package checks passed"
