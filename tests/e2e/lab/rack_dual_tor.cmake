# The dual-ToR lab (examples/rack-dual-tor): ECMP toward two FRR ToRs, BFD, sourceAddress, and
# a ToR failing silently.
add_test(NAME e2e_lab_rack_dual_tor
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/rack_dual_tor.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_lab_rack_dual_tor PROPERTIES LABELS "e2e" TIMEOUT 300 RUN_SERIAL TRUE)
