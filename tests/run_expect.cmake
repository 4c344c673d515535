# Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
#
# Runs COMMAND with ARGS (a list) and checks its exit code and output:
#   cmake -DCOMMAND=... -DARGS=a;b -DEXPECT_EXIT=1 -DEXPECT_OUTPUT=regex -P run_expect.cmake
# With -DSTREAM=stdout (or stderr) the regex must match that stream alone and
# the other must be empty: help belongs on stdout, usage errors on stderr.
# With -DINPUT=FILE the command reads FILE on stdin.
set(input_args)
if(DEFINED INPUT)
  set(input_args INPUT_FILE ${INPUT})
endif()
execute_process(COMMAND ${COMMAND} ${ARGS}
                ${input_args}
                RESULT_VARIABLE exit_code
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
set(all "${out}${err}")
if(STREAM STREQUAL "stdout")
  set(checked "${out}")
  set(other "${err}")
elseif(STREAM STREQUAL "stderr")
  set(checked "${err}")
  set(other "${out}")
else()
  set(checked "${all}")
  set(other "")
endif()
string(REPLACE "\n" " " flat "${checked}")
if(NOT exit_code EQUAL EXPECT_EXIT)
  message(FATAL_ERROR "exit code ${exit_code}, expected ${EXPECT_EXIT}\n${all}")
endif()
if(NOT flat MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "${STREAM} output does not match /${EXPECT_OUTPUT}/:\n${all}")
endif()
if(NOT other STREQUAL "")
  message(FATAL_ERROR "expected nothing but ${STREAM} output, also got:\n${other}")
endif()
message(STATUS "ok: exit ${exit_code}\n${all}")
