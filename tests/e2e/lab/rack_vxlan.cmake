# 612 s measured at a load average of about 20 (many checks reach nodes through clab-netns exec,
# a process start each); the TIMEOUT leaves room for such a machine.
add_test(NAME e2e_lab_rack_vxlan
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/rack_vxlan.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_lab_rack_vxlan PROPERTIES LABELS "e2e" TIMEOUT 900 RUN_SERIAL TRUE)
