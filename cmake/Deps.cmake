# Finds every dependency the CMake way (pkg-config). A missing one stops
# configuration with the Debian package that provides it.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config")
endif()

function(hs_require_pkg prefix module debian_pkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR
      "Missing dependency '${module}'. On Debian 12: apt-get install ${debian_pkg}\n"
      "(or run scripts/setup, which installs everything)")
  endif()
endfunction()

hs_require_pkg(UNICORN unicorn libunicorn-dev)
hs_require_pkg(CAPSTONE capstone libcapstone-dev)
hs_require_pkg(READLINE readline libreadline-dev)
hs_require_pkg(SDL2 sdl2 libsdl2-dev)
hs_require_pkg(SDL2TTF SDL2_ttf libsdl2-ttf-dev)
hs_require_pkg(CHECK check check)
hs_require_pkg(LIBELF libelf libelf-dev)
hs_require_pkg(LIBDW libdw libdw-dev)

find_program(HS_CROSS_CC aarch64-linux-gnu-gcc)
if(NOT HS_CROSS_CC)
  message(FATAL_ERROR "Missing AArch64 cross compiler. On Debian 12: apt-get install gcc-aarch64-linux-gnu")
endif()
get_filename_component(_hs_cross_dir ${HS_CROSS_CC} DIRECTORY)
find_program(HS_CROSS_OBJDUMP aarch64-linux-gnu-objdump HINTS ${_hs_cross_dir})
