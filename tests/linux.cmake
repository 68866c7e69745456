# Linux's own pKVM (docs/linux-pkvm.md): scripts/linux-hyp fetches Debian's
# linux-source for 6.12 and for the newest 7.x in sid, builds kvm_nvhe.o and links
# it; each version is a ctest fixture the scenarios under scenarios/linux/ need.
# The cache (build/linux/ in the source tree) is shared by the normal and the
# sanitizer builds, so only the first run downloads and builds (~2.5 min on 2
# cores). If the package cannot be fetched the fixture test fails, and with it the
# scenarios: nothing is skipped. -DHS_LINUX_TESTS=OFF leaves them out.
option(HS_LINUX_TESTS "Fetch and build Linux's kvm_nvhe.o and run scenarios/linux/" ON)
if(HS_LINUX_TESTS)
  set(HS_LINUX_CACHE ${CMAKE_SOURCE_DIR}/build/linux)
  file(GLOB HS_LINUX_SCENARIOS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/scenarios/linux/*.hss)
  foreach(ver 6.12 7)
    add_test(NAME linux_hyp_${ver}
      COMMAND ${CMAKE_SOURCE_DIR}/scripts/linux-hyp ${ver} --cache ${HS_LINUX_CACHE})
    set_tests_properties(linux_hyp_${ver} PROPERTIES FIXTURES_SETUP linux_${ver}
      TIMEOUT 1800 LABELS linux RUN_SERIAL TRUE)
    foreach(hss ${HS_LINUX_SCENARIOS})
      get_filename_component(name ${hss} NAME_WE)
      add_test(NAME scenario_linux_${ver}_${name} COMMAND hypscope run ${hss}
        WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
      set_tests_properties(scenario_linux_${ver}_${name} PROPERTIES
        FIXTURES_REQUIRED linux_${ver} TIMEOUT 600 LABELS "linux;scenario"
        ENVIRONMENT "NO_COLOR=1;HYPSCOPE_HYP=${HS_LINUX_CACHE}/linux-${ver}.elf")
    endforeach()
  endforeach()
endif()
