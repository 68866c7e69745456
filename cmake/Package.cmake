# `cpack -G DEB` (from the build directory): Debian packages of what
# `cmake --install` installs, under /usr, one per install component:
#   hypscope        the debugger, its bundled images, man page, completion, docs
#   libhypscope0.1  libhypscope.so.0.1 (named for the soname, lib/CMakeLists.txt)
#   libhypscope-dev headers, libhypscope.so and .a, hypscope.pc, the example
# Depends comes from the shared libraries the binaries really link
# (dpkg-shlibdeps, from dpkg-dev), plus the font the views draw with, which no
# binary links.
set(CPACK_PACKAGE_NAME hypscope)
set(CPACK_PACKAGE_VENDOR "hypscope")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Each package's description: its first line is the summary (so no
# CPACK_PACKAGE_DESCRIPTION_SUMMARY, which CPack would put before every one).
string(CONCAT HS_DEB_TOOL_DESCRIPTION
  "emulator and debugger for AArch64 EL2 memory management\n"
  "hypscope runs a real AArch64 hypervisor (a pKVM-style EL2 hypervisor, bundled)\n"
  "under Unicorn with its page tables in emulated memory, and debugs its memory\n"
  "management: single-step the protected-mode boot, decode EL2 stage 1 and the\n"
  "host and guest stage 2, act as the host, replay scenario scripts.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL hypscope libhypscope dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # NAME_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "hypscope developers <hypscope@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_HYPSCOPE_PACKAGE_NAME hypscope)
set(CPACK_DEBIAN_HYPSCOPE_PACKAGE_DEPENDS "fonts-dejavu-core")
set(CPACK_DEBIAN_HYPSCOPE_PACKAGE_RECOMMENDS "bash-completion, man-db")
set(CPACK_DEBIAN_HYPSCOPE_DESCRIPTION "${HS_DEB_TOOL_DESCRIPTION}")

set(CPACK_DEBIAN_LIBHYPSCOPE_PACKAGE_NAME libhypscope${HS_SOVERSION})
set(CPACK_DEBIAN_LIBHYPSCOPE_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_LIBHYPSCOPE_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_LIBHYPSCOPE_DESCRIPTION
  "the hypscope machine as a library\nlibhypscope drives the hypscope machine (hypervisor under Unicorn, host model,\npage-table walker, inspection) from other programs.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libhypscope-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS libhypscope)
# hypscope.pc's Requires.private: pkg-config needs their .pc files even for
# --cflags, and a static link needs their libraries.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libunicorn-dev, libcapstone-dev, libelf-dev, libdw-dev, libzstd-dev")
# A static link also needs what libdw.pc lists privately (libdw-dev does not pull it).
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "zlib1g-dev, libbz2-dev, liblzma-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "hypscope")
set(CPACK_DEBIAN_DEV_DESCRIPTION
  "the hypscope machine as a library (development files)\nHeaders, pkg-config file, shared and static libhypscope and an example program.")
set(CPACK_STRIP_FILES OFF) # keep the debugger's own symbols for bug reports
include(CPack)
