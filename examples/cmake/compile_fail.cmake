# compile_fail.cmake - prove that a misuse of the typed channels does not compile.
#
#   cmake -DCC=<compiler> -DINCLUDE=<dir> -DSRC=<file.c> -P compile_fail.cmake
#
# SRC is compiled twice with -fsyntax-only. Without RILL_MISUSE it must compile (so the file
# is sound and the header usable); with -DRILL_MISUSE, which swaps in the one misuse, it must
# fail. A plain "must fail" test would also pass on a typo or a missing include.
cmake_minimum_required(VERSION 3.20)

set(flags -fsyntax-only -std=gnu11 -Wall -Wextra -Werror -I${INCLUDE})
execute_process(COMMAND ${CC} ${flags} ${SRC} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${SRC} must compile without RILL_MISUSE:\n${err}")
endif()
execute_process(COMMAND ${CC} ${flags} -DRILL_MISUSE ${SRC} RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled with RILL_MISUSE: the misuse is not caught")
endif()
message(STATUS "rejected as it should be:\n${err}")
