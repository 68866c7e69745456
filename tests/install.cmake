# Installing and packaging, tested as a user meets them (see the scripts).
add_test(NAME cli_version COMMAND hypscope --version)
set_tests_properties(cli_version PROPERTIES ENVIRONMENT "${HS_SCENARIO_ENV}" LABELS cli
  PASS_REGULAR_EXPRESSION "^hypscope ${PROJECT_VERSION}( \\(git [^)]+\\))?\nunicorn 2\\.[0-9]+\\.[0-9]+ \\(built with [0-9.]+\\)\ncapstone [0-9]+\\.[0-9]+ \\(built with [0-9.]+\\)\nhypervisor [^\n]*hyp.elf build-id [0-9a-f]+\n$")
add_test(NAME cli_man_page COMMAND ${CMAKE_CURRENT_LIST_DIR}/cli_docs_test.sh man
  $<TARGET_FILE:hypscope> ${HS_MAN_PAGE})
add_test(NAME cli_bash_completion COMMAND ${CMAKE_CURRENT_LIST_DIR}/cli_docs_test.sh completion
  $<TARGET_FILE:hypscope> ${CMAKE_SOURCE_DIR}/cli/hypscope.bash-completion)
set_tests_properties(cli_man_page cli_bash_completion PROPERTIES
  ENVIRONMENT "${HS_SCENARIO_ENV}" TIMEOUT 120 LABELS cli)
# The whole install + package path costs ~10 s of CPU: once, in the normal build
# against the system's Unicorn. A build against a private Unicorn (HS_UNICORN_DIR,
# e.g. Debian 13's fetched into build-deps/) is not what the package ships: its
# installed binary would load the system's libunicorn and rightly refuse to run.
if(NOT HS_SANITIZE AND NOT HS_UNICORN_DIR)
  add_test(NAME package_install COMMAND ${CMAKE_CURRENT_LIST_DIR}/package_test.sh
    ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR} ${CMAKE_CPACK_COMMAND})
  set_tests_properties(package_install PROPERTIES TIMEOUT 600 LABELS package)
endif()
