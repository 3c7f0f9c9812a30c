add_test(NAME e2e_lab_spine_leaf
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/spine_leaf.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_lab_spine_leaf PROPERTIES LABELS "e2e" TIMEOUT 300 RUN_SERIAL TRUE)
