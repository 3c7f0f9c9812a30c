# blockd_fuzz_target(NAME SOURCE LIBS...): one fuzz target, linked with LIBS alone.
# With BLOCKD_FUZZ (clang) it is a libFuzzer binary. Otherwise the same source and libraries get
# a replay main (tests/support/fuzz_replay_main.cpp) that runs given inputs once: the regular
# build compiles every fuzz target, the seeds replay as unit tests, and
# tests/unit/arch/fuzz_links_test.sh checks what the targets link.
function(blockd_fuzz_target name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARGN})
  if(BLOCKD_FUZZ)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support/fuzz_replay_main.cpp)
  endif()
endfunction()
