# Shared by the labs' lab.sh: the options, the build and the deploy with its teardown. A lab.sh
# sets $topo, sources its steps file (which sources lab-lib.sh), then this file with its own
# arguments:
#   . "$top/examples/lab-deploy.sh" "$@"
# Options: --keep (leave the lab running), --no-build (use an existing build or image),
# --runtime netns|docker (default netns: network namespaces on this host, with the binaries of
# the build folder; docker: a container per node from the image blockd:dev, which holds blockd
# from its Debian package, made by tests/lab/lab-image.sh).
# BLOCKD_BUILD_DIR: the build folder (default: build/ at the top of the tree); under docker,
# BLOCKD_PACKAGE_BUILD_DIR: the folder the package is built in (default: build-package/).
keep=0 build_it=1 runtime=netns
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1 ;;
    --no-build) build_it=0 ;;
    --runtime)
      runtime=${2:-}; shift
      case $runtime in netns | docker) ;; *) echo "lab.sh: --runtime netns|docker" >&2; exit 1 ;; esac ;;
    --runtime=*) set -- "--runtime" "${1#--runtime=}" "${@:2}"; continue ;;
    *) echo "lab.sh: unknown option $1 (--keep, --no-build, --runtime netns|docker)" >&2; exit 1 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "lab.sh: run as root (network namespaces, containers)" >&2; exit 1; }
build_dir=${BLOCKD_BUILD_DIR:-$top/build}
[ $build_it = 0 ] || bash "$top/tests/install-deps.sh"
if [ "$runtime" = docker ]; then
  . "$top/tests/lab/docker-daemon.sh"
  docker_up
  # A daemon started here stays up (the lab's containers, `docker ps`); say how to stop it.
  [ -z "$docker_started_pid" ] || echo "lab.sh: started dockerd (PID $docker_started_pid; stop it with: kill $docker_started_pid)"
  if [ $build_it = 1 ]; then
    # The package as a packager builds it: Release, the programs only (no tests), its own folder.
    package_dir=${BLOCKD_PACKAGE_BUILD_DIR:-$top/build-package}
    cmake -S "$top" -B "$package_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
    bash "$top/tests/lab/lab-image.sh" "$package_dir"
  fi
else
  if [ $build_it = 1 ]; then
    cmake -S "$top" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build_dir" -j2 --target blockd blockctl blockd-ipam
  fi
  export CLAB_NETNS_PATH="$build_dir/agent"
  for b in blockd blockctl blockd-ipam; do
    [ -x "$build_dir/agent/$b" ] || { echo "lab.sh: $build_dir/agent/$b is not built" >&2; exit 2; }
  done
fi
clab deploy --runtime "$runtime" --reconfigure
if [ $keep = 0 ]; then trap 'clab destroy' EXIT; else trap '[ $? = 0 ] || clab destroy' EXIT; fi
trap 'exit 130' INT TERM
clab inspect
