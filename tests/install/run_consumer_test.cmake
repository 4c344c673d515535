# Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
#
# Installs the Cairn build at CAIRN_BUILD_DIR into WORK_DIR/prefix, then
# configures, builds and runs the consumer project at CONSUMER_SOURCE_DIR
# against that prefix only; and, when KAFKA_CONSUMER_SOURCE_DIR is set (Cairn
# was built with cairn::kafka), the one there too. Then builds the consumer's
# main.cc with the C++ compiler CXX and pkg-config's flags alone (the .pc
# file under CAIRN_LIBDIR), and checks that the docs and examples are there.

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${CAIRN_BUILD_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2)
run(${WORK_DIR}/build/consumer)
if(NOT last_output MATCHES "^cairn ${CAIRN_VERSION}\ncompiled welcome v3: 3 nodes, events: signup\nsent welcome to u1")
  message(FATAL_ERROR "unexpected consumer output:\n${last_output}")
endif()
message(STATUS "${last_output}")
run(${WORK_DIR}/build/journey_test)
if(NOT last_output MATCHES "harness: 0 email before the hour, 1 after")
  message(FATAL_ERROR "unexpected journey_test output:\n${last_output}")
endif()
message(STATUS "${last_output}")

# The docs and the example journeys are installed beside the library.
foreach(file README.md LICENSE docs/semantics.md docs/journeys.md
             examples/welcome/journey.textproto examples/welcome/main.cc
             examples/cart_abandonment/journey.textproto)
  if(NOT EXISTS ${prefix}/share/doc/cairn/${file})
    message(FATAL_ERROR "not installed: share/doc/cairn/${file}")
  endif()
endforeach()

# pkg-config, for builds without CMake.
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/${CAIRN_LIBDIR}/pkgconfig)
run(${PKG_CONFIG} --cflags --libs cairn)
string(STRIP "${last_output}" pc_flags)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
run(${CXX} -std=c++17 ${CONSUMER_SOURCE_DIR}/main.cc -o ${WORK_DIR}/pc_consumer ${pc_flags})
run(${WORK_DIR}/pc_consumer)
if(NOT last_output MATCHES "^cairn ${CAIRN_VERSION}\ncompiled welcome v3")
  message(FATAL_ERROR "unexpected pkg-config consumer output:\n${last_output}")
endif()
message(STATUS "pkg-config: ${last_output}")

if(KAFKA_CONSUMER_SOURCE_DIR)
  run(${CMAKE_COMMAND} -S ${KAFKA_CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/kafka_build
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE})
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/kafka_build -j2)
  run(${WORK_DIR}/kafka_build/kafka_consumer)
  if(NOT last_output MATCHES "record {\"subject\":\"u1\",\"name\":\"signup\",\"time\":\"2026-01-05T10:00:00Z\"}\nworker: journeys is empty")
    message(FATAL_ERROR "unexpected kafka consumer output:\n${last_output}")
  endif()
  message(STATUS "${last_output}")
endif()
