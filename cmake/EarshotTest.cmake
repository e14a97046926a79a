# earshot_test(NAME LANE SOURCES... [LIBS ...] [TIMEOUT s])
# One GoogleTest binary, discovered into ctest and labelled by lane
# (unit | kernel | e2e | vm), linked with the test-support library
# (earshot_test_support, tests/support) and LIBS. A test that calls
# GTEST_SKIP() shows as "Skipped" in ctest, never as "Passed".
function(earshot_test NAME LANE)
  cmake_parse_arguments(ARG "" "TIMEOUT" "LIBS" ${ARGN})
  add_executable(${NAME} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${NAME} PRIVATE earshot_test_support ${ARG_LIBS}
                                        GTest::gtest GTest::gtest_main GTest::gmock)
  # A cross-built binary cannot list its tests on the build machine; it runs
  # in a guest of its architecture (the vm lane's arm64 row), not in ctest.
  if(CMAKE_CROSSCOMPILING AND NOT CMAKE_CROSSCOMPILING_EMULATOR)
    return()
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  gtest_discover_tests(${NAME}
    DISCOVERY_TIMEOUT 30
    PROPERTIES LABELS ${LANE} TIMEOUT ${ARG_TIMEOUT}
               SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()
