# Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
#
# Runs `cairn validate --format json FILE` and reads its stdout as JSON, the
# way a CI step would:
#   cmake -DCOMMAND=cairn -DFILE=f -DEXPECT_LINE=N -DEXPECT_FIELD=path
#         -P run_validate_json.cmake
# The run must exit 1 with one invalid file whose first problem is an error
# at line EXPECT_LINE (a JSON number, not a string) and field EXPECT_FIELD.
execute_process(COMMAND ${COMMAND} validate --format json ${FILE}
                RESULT_VARIABLE exit_code
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT exit_code EQUAL 1)
  message(FATAL_ERROR "exit code ${exit_code}, expected 1\n${out}${err}")
endif()
if(NOT err STREQUAL "")
  message(FATAL_ERROR "expected nothing on stderr, got:\n${err}")
endif()
# string(JSON) stops the script with an error if `out` is not JSON.
string(JSON all_valid GET "${out}" valid)
string(JSON file_count LENGTH "${out}" files)
string(JSON valid GET "${out}" files 0 valid)
string(JSON line_type TYPE "${out}" files 0 problems 0 line)
string(JSON column_type TYPE "${out}" files 0 problems 0 column)
string(JSON line GET "${out}" files 0 problems 0 line)
string(JSON severity GET "${out}" files 0 problems 0 severity)
string(JSON field GET "${out}" files 0 problems 0 field)
foreach(check
    "all_valid;OFF" "file_count;1" "valid;OFF" "line_type;NUMBER" "column_type;NUMBER"
    "line;${EXPECT_LINE}" "severity;error" "field;${EXPECT_FIELD}")
  list(GET check 0 name)
  list(GET check 1 expected)
  if(NOT "${${name}}" STREQUAL "${expected}")
    message(FATAL_ERROR "${name} is \"${${name}}\", expected \"${expected}\":\n${out}")
  endif()
endforeach()
message(STATUS "ok:\n${out}")
