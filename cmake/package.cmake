# The Debian package: `cmake --build BUILD --target package` makes BUILD/blockd_<version>_amd64.deb.
# Depends come from the binaries (dpkg-shlibdeps, in dpkg-dev); /etc/blockd/blockd.yaml is a
# conffile; packaging/debian/ holds the maintainer scripts.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME blockd)
set(CPACK_PACKAGE_VENDOR blockd)
set(CPACK_PACKAGE_CONTACT "blockd maintainers <blockd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "node agent: IPAM by topology, BGP to the top-of-rack router, kernel routes")
set(CPACK_PACKAGE_DESCRIPTION "blockd runs on every node of a rack-aware cluster. It hands out
workload addresses from IP pools chosen by node labels (Calico's IPPool semantics),
advertises each address block to the top-of-rack router over BGP as one route, and
programs routes to the other nodes' blocks over netlink (direct, IPIP or VXLAN).
The package holds blockd, the blockctl CLI and the CNI IPAM plugin blockd-ipam.")
set(CPACK_PACKAGE_FILE_NAME blockd)  # the staging folder; CPACK_DEBIAN_FILE_NAME names the .deb
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR})
# Install with DESTDIR under /usr, so absolute destinations (/etc, /lib/systemd, /usr/lib/cni)
# land in the package and the unit names /usr/bin/blockd.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# ptp, portmap and the other plugins blockd-ipam works behind.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS containernetworking-plugins)
configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/conffiles.in ${PROJECT_BINARY_DIR}/debian/conffiles @ONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# The version is known at build time (cmake/write_version.cmake, from git), after this
# configure: CPack reads it from the build when it makes the package.
set(BLOCKD_VERSION_FILE ${PROJECT_BINARY_DIR}/version.txt)
configure_file(${PROJECT_SOURCE_DIR}/cmake/package_version.cmake.in ${PROJECT_BINARY_DIR}/package_version.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/package_version.cmake)

include(CPack)
