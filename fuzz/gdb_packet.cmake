# The gdb packet-layer fuzzer (libFuzzer; clang only, -DHS_FUZZ=ON).
# ctest -L fuzz runs it for a short budget over the seed corpus.
add_executable(fuzz_gdb_packet ${CMAKE_CURRENT_LIST_DIR}/fuzz_gdb_packet.c
  ${CMAKE_SOURCE_DIR}/cli/gdb_packet.c)
target_include_directories(fuzz_gdb_packet PRIVATE ${CMAKE_SOURCE_DIR}/cli)
target_compile_options(fuzz_gdb_packet PRIVATE -fsanitize=fuzzer,address,undefined)
target_link_options(fuzz_gdb_packet PRIVATE -fsanitize=fuzzer,address,undefined)
set(HS_FUZZ_SECONDS 20 CACHE STRING "seconds each fuzz test runs under ctest")
# New inputs go to a scratch directory: the seed corpus in the tree stays as committed.
add_test(NAME fuzz_gdb_packet
  COMMAND sh -c "w=$(mktemp -d) && \"$0\" -max_total_time=${HS_FUZZ_SECONDS} -seed=1 -max_len=20000 -rss_limit_mb=1024 -artifact_prefix=${CMAKE_BINARY_DIR}/crash-gdb_packet- \"$w\" \"$1\"; st=$?; rm -rf \"$w\"; exit $st"
    $<TARGET_FILE:fuzz_gdb_packet> ${CMAKE_CURRENT_LIST_DIR}/corpus_gdb_packet)
set_tests_properties(fuzz_gdb_packet PROPERTIES LABELS fuzz TIMEOUT 120)
