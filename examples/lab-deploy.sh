# Shared by the labs' lab.sh: the options, the build and the deploy with its teardown. A lab.sh
# sets $topo, sources its steps file (which sets $top and lab_args, see
# rack-tutorial/tutorial.sh), then this file with its own arguments:
#   . "$top/examples/lab-deploy.sh" "$@"
# Options: --keep (leave the lab running), --no-build (use an existing build).
# BLOCKD_BUILD_DIR: the build folder (default: build/ at the top of the tree).
keep=0 build_it=1
for a in "$@"; do
  case $a in
    --keep) keep=1 ;;
    --no-build) build_it=0 ;;
    *) echo "lab.sh: unknown option $a (--keep, --no-build)" >&2; exit 1 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "lab.sh: run as root (network namespaces)" >&2; exit 1; }
build_dir=${BLOCKD_BUILD_DIR:-$top/build}
if [ $build_it = 1 ]; then
  bash "$top/tests/install-deps.sh"
  cmake -S "$top" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j2 --target blockd blockctl blockd-ipam
fi
export CLAB_NETNS_PATH="$build_dir/agent"
for b in blockd blockctl blockd-ipam; do
  [ -x "$build_dir/agent/$b" ] || { echo "lab.sh: $build_dir/agent/$b is not built" >&2; exit 2; }
done
clab() { "$top/tests/lab/clab-netns" "$1" "${lab_args[@]}" "${@:2}"; }
clab deploy --reconfigure
if [ $keep = 0 ]; then trap 'clab destroy' EXIT; else trap '[ $? = 0 ] || clab destroy' EXIT; fi
trap 'exit 130' INT TERM
clab inspect
