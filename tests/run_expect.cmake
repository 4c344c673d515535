# Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
#
# Runs COMMAND with ARGS (a list) and checks its exit code and output:
#   cmake -DCOMMAND=... -DARGS=a;b -DEXPECT_EXIT=1 -DEXPECT_OUTPUT=regex -P run_expect.cmake
execute_process(COMMAND ${COMMAND} ${ARGS}
                RESULT_VARIABLE exit_code
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
set(all "${out}${err}")
string(REPLACE "\n" " " flat "${all}")
if(NOT exit_code EQUAL EXPECT_EXIT)
  message(FATAL_ERROR "exit code ${exit_code}, expected ${EXPECT_EXIT}\n${all}")
endif()
if(NOT flat MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "output does not match /${EXPECT_OUTPUT}/:\n${all}")
endif()
message(STATUS "ok: exit ${exit_code}\n${all}")
