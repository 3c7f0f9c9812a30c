# Failures on the rack tutorial lab (rack_failures.sh): a node's blockd killed with kill -9 and
# not restarted (graceful restart until the node's restart time, then withdrawn) and a node's
# uplink down and up, with BIRD 2 as the ToR and again with FRR.
add_test(NAME e2e_lab_rack_failures
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/rack_failures.sh ${PROJECT_BINARY_DIR} bird)
add_test(NAME e2e_lab_rack_failures_frr
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/rack_failures.sh ${PROJECT_BINARY_DIR} frr)
set_tests_properties(e2e_lab_rack_failures e2e_lab_rack_failures_frr
                     PROPERTIES LABELS "e2e" TIMEOUT 300 RUN_SERIAL TRUE)
