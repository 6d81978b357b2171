# expect_panic.cmake - run a program that must die of an unrecovered rill_panic(): it must be
# killed by SIGABRT (CMake reports "Child aborted"), and its stderr must match every regex of
# the STDERR file (one per line, '#' lines are comments), in that order.
#
#   cmake -DEXE=<program> -DSTDERR=<file> -P expect_panic.cmake
cmake_minimum_required(VERSION 3.20)

execute_process(COMMAND ${EXE} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc MATCHES "[Aa]bort")
  message(FATAL_ERROR "${EXE}: expected an abort, got '${rc}'\n"
    "--- stdout:\n${out}\n--- stderr:\n${err}")
endif()

file(STRINGS ${STDERR} patterns ENCODING UTF-8)
set(rest "${err}")
foreach(re IN LISTS patterns)
  if(re MATCHES "^#" OR re STREQUAL "")
    continue()
  endif()
  string(REGEX MATCH "${re}" hit "${rest}")
  if(hit STREQUAL "")
    message(FATAL_ERROR "stderr lacks '${re}' (in order)\n--- stderr:\n${err}")
  endif()
  # Search for the next pattern after this match only.
  string(FIND "${rest}" "${hit}" at)
  string(LENGTH "${hit}" len)
  math(EXPR at "${at} + ${len}")
  string(SUBSTRING "${rest}" ${at} -1 rest)
endforeach()
