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

# Unicorn: the system's (Debian 12: 2.0.1), or another one unpacked under a
# prefix (scripts/deps --unicorn 2.1 fetches Debian 13's 2.1.1 and prints it).
# The quirk layer chooses its workarounds from the headers' version.
set(HS_UNICORN_DIR "" CACHE PATH
  "Build against the Unicorn under this prefix (include/unicorn, lib/...) instead of the system's")
if(HS_UNICORN_DIR)
  find_library(HS_UNICORN_LIBRARY NAMES libunicorn.so.2 unicorn NO_DEFAULT_PATH
    PATHS ${HS_UNICORN_DIR}/lib/x86_64-linux-gnu ${HS_UNICORN_DIR}/lib)
  set(_hs_uc_h ${HS_UNICORN_DIR}/include/unicorn/unicorn.h)
  if(NOT HS_UNICORN_LIBRARY OR NOT EXISTS ${_hs_uc_h})
    message(FATAL_ERROR "HS_UNICORN_DIR=${HS_UNICORN_DIR} holds no libunicorn.so.2 and "
      "include/unicorn/unicorn.h: run scripts/deps --unicorn 2.1 and give the prefix it prints")
  endif()
  file(STRINGS ${_hs_uc_h} _hs_uc_v REGEX "^#define UC_API_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9]+).*" "\\1.\\2.\\3"
    UNICORN_VERSION "${_hs_uc_v}")
  add_library(PkgConfig::UNICORN SHARED IMPORTED)
  set_target_properties(PkgConfig::UNICORN PROPERTIES IMPORTED_LOCATION ${HS_UNICORN_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${HS_UNICORN_DIR}/include)
  message(STATUS "Unicorn ${UNICORN_VERSION} from ${HS_UNICORN_DIR}")
else()
  hs_require_pkg(UNICORN unicorn libunicorn-dev)
endif()
hs_require_pkg(CAPSTONE capstone libcapstone-dev)
hs_require_pkg(READLINE readline libreadline-dev)
hs_require_pkg(SDL2 sdl2 libsdl2-dev)
hs_require_pkg(SDL2TTF SDL2_ttf libsdl2-ttf-dev)
hs_require_pkg(CHECK check check)
hs_require_pkg(LIBELF libelf libelf-dev)
hs_require_pkg(LIBDW libdw libdw-dev)
hs_require_pkg(ZSTD libzstd libzstd-dev) # saved machines (emu/machine/machine_file.c)

find_program(HS_CROSS_CC aarch64-linux-gnu-gcc)
if(NOT HS_CROSS_CC)
  message(FATAL_ERROR "Missing AArch64 cross compiler. On Debian 12: apt-get install gcc-aarch64-linux-gnu")
endif()
get_filename_component(_hs_cross_dir ${HS_CROSS_CC} DIRECTORY)
find_program(HS_CROSS_OBJDUMP aarch64-linux-gnu-objdump HINTS ${_hs_cross_dir})
