# The same script and assertions under both runtimes: network namespaces, and containers from
# the lab image (e2e_lab_image makes it).
add_test(NAME e2e_lab_rack_tutorial
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/rack_tutorial.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_lab_rack_tutorial PROPERTIES LABELS "e2e" TIMEOUT 300 RUN_SERIAL TRUE)
add_test(NAME e2e_lab_rack_tutorial_docker
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/rack_tutorial.sh ${PROJECT_BINARY_DIR} --runtime docker)
set_tests_properties(e2e_lab_rack_tutorial_docker PROPERTIES LABELS "e2e" TIMEOUT 400 RUN_SERIAL TRUE
                     FIXTURES_REQUIRED lab_image)
