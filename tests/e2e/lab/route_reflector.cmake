# The route-reflector lab (examples/route-reflector), network namespaces only (the docker runtime
# is the same runner, covered by the other labs).
add_test(NAME e2e_lab_route_reflector
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/route_reflector.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_lab_route_reflector PROPERTIES LABELS "e2e" TIMEOUT 600 RUN_SERIAL TRUE)
