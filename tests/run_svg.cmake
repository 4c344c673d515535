# Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
#
# Runs `cairn sim --svg` with a stand-in for Graphviz's `dot` first on PATH,
# so that the test behaves the same whether Graphviz is installed or not,
# and checks what the tool does with awkward file names and with a `dot`
# that is missing or fails:
#   cmake -DCAIRN=tool -DJOURNEY=file -DEVENTS=file -DWORK_DIR=scratch
#         -DMODE=quote|injection|missing|fails|killed|real [-DDOT=/usr/bin/dot]
#         -P run_svg.cmake
# The SVG names are written here rather than passed in because a CMake list
# argument cannot carry the `;` of the injection case.

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/bin")

# The stand-ins. The copying one gives the graph back as the "SVG", which
# shows that both paths reached it intact.
set(copy_dot [=[#!/bin/sh
PATH=/usr/bin:/bin
out=
while [ $# -gt 1 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    *) shift ;;
  esac
done
exec cp -- "$1" "$out"
]=])
set(failing_dot "#!/bin/sh\nexit 3\n")
set(killed_dot "#!/bin/sh\nkill -9 $$\n")

set(svg "it's.svg")
set(expect_exit 0)
set(expect_output "")
if(MODE STREQUAL "quote")
  set(dot_script "${copy_dot}")
elseif(MODE STREQUAL "injection")
  set(dot_script "${copy_dot}")
  set(svg "a';touch INJECTED;'b.svg")
elseif(MODE STREQUAL "missing")
  set(expect_exit 1)
  set(expect_output "cannot write it's.svg: Graphviz's `dot` is not installed or not on PATH")
elseif(MODE STREQUAL "fails")
  set(dot_script "${failing_dot}")
  set(expect_exit 1)
  set(expect_output "cannot write it's.svg: `dot` exited with status 3; the graph is in it's.svg.dot")
elseif(MODE STREQUAL "killed")
  set(dot_script "${killed_dot}")
  set(expect_exit 1)
  set(expect_output "cannot write it's.svg: `dot` was killed by signal 9")
elseif(MODE STREQUAL "real")
  get_filename_component(dot_dir "${DOT}" DIRECTORY)
else()
  message(FATAL_ERROR "unknown MODE \"${MODE}\"")
endif()

if(DEFINED dot_script)
  file(WRITE "${WORK_DIR}/bin/dot" "${dot_script}")
  file(CHMOD "${WORK_DIR}/bin/dot" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
endif()
# The tool itself is run by its full path; PATH only decides which `dot` it
# finds. In "missing" the only directory on PATH has no `dot`.
if(MODE STREQUAL "missing")
  set(ENV{PATH} "${WORK_DIR}/bin")
elseif(MODE STREQUAL "real")
  set(ENV{PATH} "${dot_dir}:/usr/bin:/bin")
else()
  set(ENV{PATH} "${WORK_DIR}/bin:/usr/bin:/bin")
endif()

execute_process(COMMAND "${CAIRN}" sim --journey "${JOURNEY}" --events "${EVENTS}" --svg "${svg}"
                WORKING_DIRECTORY "${WORK_DIR}"
                RESULT_VARIABLE exit_code
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT exit_code EQUAL expect_exit)
  message(FATAL_ERROR "exit code ${exit_code}, expected ${expect_exit}\n${err}")
endif()
if(expect_output)
  string(FIND "${err}" "${expect_output}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "stderr does not say \"${expect_output}\":\n${err}")
  endif()
endif()
if(EXISTS "${WORK_DIR}/INJECTED")
  message(FATAL_ERROR "a shell ran the command hidden in the SVG path")
endif()
if(expect_exit EQUAL 0)
  if(NOT EXISTS "${WORK_DIR}/${svg}")
    message(FATAL_ERROR "no SVG at \"${WORK_DIR}/${svg}\":\n${err}")
  endif()
  file(READ "${WORK_DIR}/${svg}" written)
  if(MODE STREQUAL "real")
    if(NOT written MATCHES "<svg")
      message(FATAL_ERROR "\"${svg}\" is not an SVG")
    endif()
  else()
    file(READ "${WORK_DIR}/${svg}.dot" graph)
    if(NOT written STREQUAL graph)
      message(FATAL_ERROR "the stand-in `dot` did not get the graph file")
    endif()
  endif()
endif()
message(STATUS "ok: ${MODE}, exit ${exit_code}")
