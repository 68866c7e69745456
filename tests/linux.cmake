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
    # gdb-multiarch on Linux's hyp: its symbols, source, types and frames (~15 s).
    add_test(NAME gdb_linux_${ver} COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/gdb_linux_test.py
      $<TARGET_FILE:hypscope> ${HS_LINUX_CACHE}/linux-${ver}.elf)
    set_tests_properties(gdb_linux_${ver} PROPERTIES FIXTURES_REQUIRED linux_${ver}
      TIMEOUT 600 LABELS linux)
    # Its line tables and `info line` against gdb-multiarch's (issue 13, ~20 s).
    add_test(NAME gdb_lines_linux_${ver} COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/gdb_lines_test.py
      $<TARGET_FILE:hypscope> ${HS_LINUX_CACHE}/linux-${ver}.elf)
    set_tests_properties(gdb_lines_linux_${ver} PROPERTIES FIXTURES_REQUIRED linux_${ver}
      TIMEOUT 600 LABELS linux)
    # step/next/finish through Linux's inlined functions against gdb-multiarch (~15 s).
    add_test(NAME gdb_step_linux_${ver} COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/gdb_step_test.py
      $<TARGET_FILE:hypscope> ${HS_LINUX_CACHE}/linux-${ver}.elf)
    set_tests_properties(gdb_step_linux_${ver} PROPERTIES FIXTURES_REQUIRED linux_${ver}
      TIMEOUT 600 LABELS linux)
    # Saved machines of Linux's hypervisor: booted (7.x: with a VM) and inside its boot
    # flow, --load'ed in a new process; refused against the other images (~5 s).
    set(other_ver 7)
    if(ver STREQUAL "7")
      set(other_ver 6.12)
    endif()
    add_test(NAME machine_file_linux_${ver} COMMAND python3
      ${CMAKE_CURRENT_SOURCE_DIR}/machine_file_linux_test.py $<TARGET_FILE:hypscope>
      ${HS_LINUX_CACHE}/linux-${ver}.elf ${HS_LINUX_CACHE}/linux-${other_ver}.elf ${HS_HYP_ELF})
    set_tests_properties(machine_file_linux_${ver} PROPERTIES
      FIXTURES_REQUIRED "linux_${ver};linux_${other_ver}" TIMEOUT 600 LABELS linux)
    add_test(NAME gdb_break_linux_${ver} COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/gdb_break_test.py
      $<TARGET_FILE:hypscope> ${HS_LINUX_CACHE}/linux-${ver}.elf)
    set_tests_properties(gdb_break_linux_${ver} PROPERTIES FIXTURES_REQUIRED linux_${ver}
      TIMEOUT 600 LABELS linux)
    foreach(hss ${HS_LINUX_SCENARIOS})
      get_filename_component(name ${hss} NAME_WE)
      # "# kernels: 7" limits a scenario to those kernels (the VM path needs 7.x's
      # hypercalls; linux_vm_refused_6.12 checks 6.12's answer instead).
      file(STRINGS ${hss} kernels REGEX "^# kernels:" LIMIT_COUNT 1)
      if(kernels)
        string(REGEX REPLACE "^# kernels:[ ]*" "" kernels "${kernels}")
        string(REPLACE " " ";" kernels "${kernels}")
        if(NOT ver IN_LIST kernels)
          continue()
        endif()
      endif()
      add_test(NAME scenario_linux_${ver}_${name} COMMAND hypscope run ${hss}
        WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
      set_tests_properties(scenario_linux_${ver}_${name} PROPERTIES
        FIXTURES_REQUIRED linux_${ver} TIMEOUT 600 LABELS "linux;scenario"
        ENVIRONMENT "NO_COLOR=1;HYPSCOPE_HYP=${HS_LINUX_CACHE}/linux-${ver}.elf")
    endforeach()
  endforeach()
  # 6.12's hypervisor has no guest stage-2 hypercalls: `vm share` and `vm run` fail
  # naming __pkvm_host_share_guest, a protected VM is refused, the VM stays listed.
  add_test(NAME linux_vm_refused_6.12 COMMAND hypscope --hyp ${HS_LINUX_CACHE}/linux-6.12.elf
    --batch -ex boot -ex "vm create" -ex "vm share 0x1000 0x40400 0x48100"
    -ex "vm run read ipa:0x48100000" -ex "vm create --protected" -ex "vm list")
  set_tests_properties(linux_vm_refused_6.12 PROPERTIES FIXTURES_REQUIRED linux_6.12
    TIMEOUT 600 LABELS linux ENVIRONMENT "NO_COLOR=1"
    PASS_REGULAR_EXPRESSION "vm share: Linux 6\\.12[^ ]*'s hypervisor has no __pkvm_host_share_guest.*vm run: Linux 6\\.12[^ ]*'s hypervisor has no __pkvm_host_share_guest.*has no protected VMs.*0x1000 +1 +no +cpu0 +0")
  # 6.12's handle_host_mem_abort BUG()s on a host read of hyp memory: Linux's panic
  # path runs to the host's nvhe_hyp_panic_handler, which reports it (and the
  # __bug_table site); the host has panicked, so the next host operation is refused
  # saying so, and `restart` gives a machine that works
  # (scenarios/linux/hyp_panic_6_12.hss checks the report line by line).
  add_test(NAME linux_6.12_hyp_bug
    COMMAND hypscope --hyp ${HS_LINUX_CACHE}/linux-6.12.elf --batch -ex boot
      -ex "host read hpool" -ex "owner hpool")
  set_tests_properties(linux_6.12_hyp_bug PROPERTIES FIXTURES_REQUIRED linux_6.12
    TIMEOUT 600 LABELS linux ENVIRONMENT "NO_COLOR=1"
    PASS_REGULAR_EXPRESSION "nVHE hyp BUG at: arch/arm64/kvm/hyp/nvhe/mem_protect.c:[0-9]+!.*owner: +hyp")
  # bt at a hypercall handler ends at host.S's exception entry, as gdb's does: the
  # frame record there holds the host's x29, which is no EL2 frame (it printed a
  # "?? [frame record]" frame at the host's address before).
  add_test(NAME linux_7_bt_ends_at_entry
    COMMAND hypscope --hyp ${HS_LINUX_CACHE}/linux-7.elf --batch -ex boot
      -ex "break __pkvm_host_share_hyp" -ex "hvc __pkvm_host_share_hyp 0x48000" -ex bt)
  set_tests_properties(linux_7_bt_ends_at_entry PROPERTIES FIXTURES_REQUIRED linux_7
    TIMEOUT 600 LABELS linux ENVIRONMENT "NO_COLOR=1"
    PASS_REGULAR_EXPRESSION "in handle_host_hcall at hyp-main.c.*at host.S:[0-9]+\nBacktrace stopped: the frame record gives 0x[0-9a-f]+, not in the hypervisor image"
    FAIL_REGULAR_EXPRESSION "in \\?\\? \\[frame record\\]")
  # The visualizer's map colours a page by the rules `map` follows: 7.x's hyp text,
  # mapped read-only in the host stage 2 (host NOPAGE, hyp OWNED in the vmemmap), is
  # hyp owned, and the struct kvm page a VM shares with EL2 is hyp borrowed (7.x keeps
  # the host's state in the vmemmap only). Before, both were painted host owned.
  add_test(NAME linux_7_viz_owner
    COMMAND hypscope --hyp ${HS_LINUX_CACHE}/linux-7.elf --batch -ex boot
      -ex "render --view map --addr handle_host_mem_abort -o linux_7_viz_owner.png"
      -ex "vm create"
      -ex "set $p = (unsigned long)vm_table[0]->host_kvm + hyp_physvirt_offset"
      -ex "render --view map --addr pa:$p -o linux_7_viz_owner.png"
      -ex "render --view map --addr 0x50000000 -o linux_7_viz_owner.png")
  set_tests_properties(linux_7_viz_owner PROPERTIES FIXTURES_REQUIRED linux_7
    TIMEOUT 600 LABELS linux ENVIRONMENT "NO_COLOR=1"
    PASS_REGULAR_EXPRESSION "page 0x[0-9a-f]+: hyp owned.*page 0x[0-9a-f]+: hyp borrowed.*page 0x50000000: host owned")
  add_test(NAME linux_6.12_host_panic_dead
    COMMAND hypscope --hyp ${HS_LINUX_CACHE}/linux-6.12.elf --batch -ex boot
      -ex "host read hpool" -ex "host read 0x50000000" -ex "vm create" -ex "info program"
      -ex restart -ex boot -ex "host read 0x50000000")
  set_tests_properties(linux_6.12_host_panic_dead PROPERTIES FIXTURES_REQUIRED linux_6.12
    TIMEOUT 600 LABELS linux ENVIRONMENT "NO_COLOR=1"
    PASS_REGULAR_EXPRESSION "Kernel panic - not syncing: HYP panic:.*the host panicked: only inspection.*host read 0x50000000: the host panicked \\(the hypervisor's panic reached the host's panic handler on cpu0\\).*restart builds a fresh one.*vm create: the host panicked.*the hypervisor panicked and the host with it.*host read 0x50000000 \\(8 bytes\\): 0")
endif()
