# What `cmake --install` adds beyond the targets' own rules (cli/, hyp/,
# guest/): the documentation and the scenarios as examples, under the GNU
# directories, plus the Debian package (cpack -G DEB, cmake/Package.cmake).
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/scenarios/
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/scenarios
  PATTERN negative EXCLUDE)
include(cmake/Package.cmake)
