# 16 nodes in 4 racks, 800 workloads, 1,000 churn cycles (examples/rack-scale). About 6 minutes
# on an idle 2-core machine; the timeout leaves room for a loaded one.
add_test(NAME e2e_lab_rack_scale
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/rack_scale.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_lab_rack_scale PROPERTIES LABELS "e2e" TIMEOUT 900 RUN_SERIAL TRUE)
