# blockd's Debian package in a clean Debian 12 container (issue: install like a node daemon):
# install with nothing first, --version, the CNI plugin's place, purge leaves the user's files.
add_test(NAME e2e_package_install
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/package_install.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_package_install PROPERTIES LABELS "e2e" TIMEOUT 900 RUN_SERIAL TRUE)
