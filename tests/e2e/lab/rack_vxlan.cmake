add_test(NAME e2e_lab_rack_vxlan
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/rack_vxlan.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_lab_rack_vxlan PROPERTIES LABELS "e2e" TIMEOUT 300 RUN_SERIAL TRUE)
