# The Docker labs' images (tests/lab/lab-image.sh): the base from Debian's archive (its rootfs
# tarball cached in /var/cache/blockd-lab), then blockd:dev with blockd from this build's Debian
# package. A fixture: the Docker lab tests run after it and only if it passed.
add_test(NAME e2e_lab_image
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/lab/lab-image.sh ${PROJECT_BINARY_DIR})
set_tests_properties(e2e_lab_image PROPERTIES LABELS "e2e" TIMEOUT 1200 RUN_SERIAL TRUE
                     FIXTURES_SETUP lab_image)
