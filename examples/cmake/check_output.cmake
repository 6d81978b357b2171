# check_output.cmake - run one example and compare its stdout with examples/expected/<name>.txt.
#
#   cmake -DEXE=<program> [-DARGS="<arguments>"] -DEXPECTED=<file> [-DORDER=exact|unordered]
#         -P check_output.cmake
#
# ARGS is one string of space-separated arguments for the program (none by default).
#
# Expected-file format, one output line per line:
#   # ...       a comment (output lines never start with '#')
#   ---         (unordered only) a segment break: the segments must appear in file order, but
#               the lines within one segment may come in any order. This is how a test says
#               "Starting workers first, then these nine lines in any order, then All done".
#   ~ <regex>   a line matching the CMake regex (anchored at both ends), for text that varies
#               from run to run (which worker took a job)
#   * <text>    a floating line: it must appear exactly once, anywhere (a goroutine's last word
#               that races with everything else)
#   ? <text>    an optional line: it may appear at most once (output the guide itself only
#               says "might" print)
#   <text>      a line that must appear exactly as written
# ORDER=exact (the default) treats every line as its own segment: the output must match line by
# line. The program must also exit 0. Output lines must not contain ';' (CMake list separator).
cmake_minimum_required(VERSION 3.20)

if(NOT ORDER)
  set(ORDER exact)
endif()

separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${EXE} ${args} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "${EXE} exited with '${rc}'\n--- stdout:\n${out}\n--- stderr:\n${err}")
endif()

string(REGEX REPLACE "\n$" "" out_trimmed "${out}")
string(REPLACE "\n" ";" got "${out_trimmed}")

# Floating lines first: take each one's first occurrence out of the output.
file(STRINGS ${EXPECTED} exp_lines ENCODING UTF-8)
foreach(line IN LISTS exp_lines)
  if(line MATCHES "^\\* (.*)$")
    list(FIND got "${CMAKE_MATCH_1}" idx)
    if(idx LESS 0)
      message(FATAL_ERROR "missing line: '${CMAKE_MATCH_1}'\n--- stdout:\n${out}")
    endif()
    list(REMOVE_AT got ${idx})
  endif()
endforeach()

# Parse the expected file into segments: seg_<i>_req / seg_<i>_opt hold pattern lists; a
# pattern is "=text" (literal) or "~regex".
set(nseg 0)
set(seg_0_req "")
set(seg_0_opt "")
foreach(line IN LISTS exp_lines)
  if(line MATCHES "^#" OR line MATCHES "^\\* " OR line STREQUAL "")
    continue()
  endif()
  if(line STREQUAL "---")
    if(ORDER STREQUAL "exact")
      message(FATAL_ERROR "${EXPECTED}: '---' only makes sense with ORDER=unordered")
    endif()
    math(EXPR nseg "${nseg} + 1")
    set(seg_${nseg}_req "")
    set(seg_${nseg}_opt "")
    continue()
  endif()
  if(line MATCHES "^~ (.*)$")
    set(pat "~${CMAKE_MATCH_1}")
    set(kind req)
  elseif(line MATCHES "^\\? (.*)$")
    set(pat "=${CMAKE_MATCH_1}")
    set(kind opt)
  else()
    set(pat "=${line}")
    set(kind req)
  endif()
  list(APPEND seg_${nseg}_${kind} "${pat}")
  if(ORDER STREQUAL "exact")
    math(EXPR nseg "${nseg} + 1")
    set(seg_${nseg}_req "")
    set(seg_${nseg}_opt "")
  endif()
endforeach()

# Does output line `text` match pattern `pat`? Sets ${result} to TRUE or FALSE.
function(line_matches text pat result)
  string(SUBSTRING "${pat}" 0 1 kind)
  string(SUBSTRING "${pat}" 1 -1 body)
  if(kind STREQUAL "=" AND text STREQUAL body)
    set(${result} TRUE PARENT_SCOPE)
  elseif(kind STREQUAL "~" AND text MATCHES "^${body}$")
    set(${result} TRUE PARENT_SCOPE)
  else()
    set(${result} FALSE PARENT_SCOPE)
  endif()
endfunction()

# Walk the output: each line must match a not yet used pattern of the current segment; once a
# segment's required patterns are all used, a line that fits none of its patterns moves on to
# the next segment.
set(seg 0)
set(req "${seg_0_req}")
set(opt "${seg_0_opt}")
set(lineno 0)
foreach(text IN LISTS got)
  math(EXPR lineno "${lineno} + 1")
  while(TRUE)
    set(hit "")
    foreach(kind req opt)
      foreach(pat IN LISTS ${kind})
        line_matches("${text}" "${pat}" ok)
        if(ok)
          set(hit ${kind})
          list(FIND ${kind} "${pat}" idx)
          list(REMOVE_AT ${kind} ${idx})
          break()
        endif()
      endforeach()
      if(hit)
        break()
      endif()
    endforeach()
    if(hit)
      break()
    endif()
    list(LENGTH req left)
    if(left GREATER 0 OR seg GREATER_EQUAL nseg)
      message(FATAL_ERROR "output line ${lineno} unexpected: '${text}'\n"
        "still expected here: ${req}\n--- stdout:\n${out}\n--- stderr:\n${err}")
    endif()
    math(EXPR seg "${seg} + 1")
    set(req "${seg_${seg}_req}")
    set(opt "${seg_${seg}_opt}")
  endwhile()
endforeach()

# Whatever segments remain must have nothing required left.
while(TRUE)
  list(LENGTH req left)
  if(left GREATER 0)
    message(FATAL_ERROR "output ended early; still expected: ${req}\n--- stdout:\n${out}")
  endif()
  if(seg GREATER_EQUAL nseg)
    break()
  endif()
  math(EXPR seg "${seg} + 1")
  set(req "${seg_${seg}_req}")
endwhile()
