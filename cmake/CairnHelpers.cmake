# Copyright 2026 The Cairn Authors. Licensed under the Apache License 2.0.
#
# cairn_set_warnings(TARGET): the warning flags for Cairn's own code. Generated
# protobuf code and third-party headers are not held to them.
function(cairn_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra)
    if(CAIRN_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()
