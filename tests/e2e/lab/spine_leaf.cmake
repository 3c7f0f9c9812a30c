# The spine-leaf lab (examples/spine-leaf), under both runtimes with the same assertions.
# Budget: 2 minutes on an idle 2-core machine; only measured under heavy load here (about 5.5
# minutes at a load average of 45), hence the TIMEOUT.
add_test(NAME e2e_lab_spine_leaf
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/spine_leaf.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_lab_spine_leaf PROPERTIES LABELS "e2e" TIMEOUT 600 RUN_SERIAL TRUE)
add_test(NAME e2e_lab_spine_leaf_docker
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/spine_leaf.sh ${PROJECT_BINARY_DIR} --runtime docker)
set_tests_properties(e2e_lab_spine_leaf_docker PROPERTIES LABELS "e2e" TIMEOUT 600 RUN_SERIAL TRUE
                     FIXTURES_REQUIRED lab_image)
