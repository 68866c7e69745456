#!/usr/bin/env bash
# The installation as a user gets it, end to end (ctest: package_install):
#  1. `cmake --install` into a temporary prefix: the files are there, the
#     installed hypscope finds its bundled images with no --hyp and boots, and
#     still does after the whole prefix is moved (relocatable);
#  2. libhypscope from the installation: every public header compiles alone,
#     and the example, built against the INSTALLED library through pkg-config
#     (shared, then static), boots, shares a page, walks the host stage 2 and
#     has Unicorn bound to the store quirk (hs_fast_stores);
#  3. `cpack -G DEB`: dpkg-deb --info/--contents show the Depends computed by
#     dpkg-shlibdeps and the binary, images, man page and completion; the
#     library's runtime and -dev packages hold what they should;
#  4. the .deb installed into a scratch root (dpkg --root) runs
#     `hypscope --batch -ex boot` from there, and apt resolves its Depends on
#     this machine (apt-get -s install ./hypscope_*.deb).
# usage: package_test.sh BUILD_DIR SOURCE_DIR CPACK_COMMAND
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) cpack=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Nothing may come from the build tree or the environment: the install must stand alone.
unset HYPSCOPE_HYP HYPSCOPE_GUEST HS_HYP_ELF HS_GUEST_ELF HS_SOURCE_DIR
export NO_COLOR=1
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
has() { [ -e "$1" ] || fail "missing $1"; }
boots() { # BINARY: boots from / and creates a VM (the guest image is found too)
	local out
	out=$(cd / && "$1" --batch -ex boot -ex 'vm create' 2>&1) || fail "$1 --batch -ex boot failed: $out"
	grep -q "protection finalised" <<<"$out" || fail "$1: no finalised boot in: $out"
	echo "  $1: boots, creates a VM"
}

echo "== cmake --install into a temporary prefix"
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/hypscope share/hypscope/hyp.elf share/hypscope/guest.elf share/man/man1/hypscope.1 \
	share/bash-completion/completions/hypscope share/doc/hypscope/README.md \
	share/doc/hypscope/examples/scenarios/boot.hss share/hypscope/src/hyp/setup.c \
	share/doc/hypscope/examples/boot_share_walk.c include/hypscope/hypscope.h; do
	has "$prefix/$f"
done
version=$("$prefix/bin/hypscope" --version)
grep -Eq "^hypervisor $prefix/share/hypscope/hyp.elf build-id [0-9a-f]{40}$" <<<"$version" ||
	fail "--version does not name the installed image's build id: $version"
boots "$prefix/bin/hypscope"
mv "$prefix" "$tmp/moved"
boots "$tmp/moved/bin/hypscope"
mv "$tmp/moved" "$prefix"

echo "== libhypscope: headers, pkg-config, the example against the installed library"
pc=$(find "$prefix" -name hypscope.pc)
[ -n "$pc" ] || fail "no hypscope.pc installed"
export PKG_CONFIG_PATH=${pc%/*}
[ "$(pkg-config --modversion hypscope)" = "$(sed -n 's/^hypscope \([^ ]*\).*/\1/p' <<<"$version")" ] ||
	fail "pkg-config's version differs from hypscope --version"
# Every public header compiles on its own (the installed set is closed under its includes).
for h in "$prefix"/include/hypscope/*.h; do
	echo "#include <hypscope/${h##*/}>" | cc -std=c11 -Wall -Wextra -Werror -fsyntax-only \
		$(pkg-config --cflags hypscope) -x c - || fail "${h##*/} does not compile alone"
done
libdir=$(pkg-config --variable=libdir hypscope)
hyp_elf=$(pkg-config --variable=hyp_elf hypscope)
for kind in shared static; do
	if [ $kind = shared ]; then
		libs=$(pkg-config --libs hypscope)
	else # the archive by name; --static adds the private libraries and the quirk's exports
		libs=$(pkg-config --libs --static hypscope | sed 's/-lhypscope/-l:libhypscope.a/')
	fi
	# shellcheck disable=SC2046,SC2086
	cc -std=c11 -Wall -Wextra -Werror -o "$tmp/example_$kind" "$src/examples/boot_share_walk.c" \
		$(pkg-config --cflags hypscope) $libs
	out=$(cd / && LD_LIBRARY_PATH=$libdir "$tmp/example_$kind" "$hyp_elf" 2>&1) ||
		fail "example ($kind) failed: $out"
	grep -q "^walk done: host stage 2 state SHARED_OWNED; stores on the fast path: yes$" <<<"$out" ||
		fail "example ($kind): no shared page, or Unicorn did not bind the store quirk: $out"
	echo "  example ($kind): $(tail -1 <<<"$out")"
done
# The control: libunicorn loaded before libhypscope binds its own page lock;
# the check must see it (stores slow, results the same).
# shellcheck disable=SC2046
cc -std=c11 -o "$tmp/example_unicorn_first" "$src/examples/boot_share_walk.c" \
	$(pkg-config --cflags hypscope) -Wl,--no-as-needed -lunicorn $(pkg-config --libs hypscope)
out=$(cd / && LD_LIBRARY_PATH=$libdir "$tmp/example_unicorn_first" "$hyp_elf" 2>&1) ||
	fail "example (-lunicorn first) failed: $out"
grep -q "^walk done: host stage 2 state SHARED_OWNED; stores on the fast path: no$" <<<"$out" ||
	fail "hs_fast_stores() missed that libunicorn kept its own page lock: $out"
echo "  example (-lunicorn first): $(tail -1 <<<"$out")"
if [ "$(uname -m)" = x86_64 ]; then
	static_deps=$(ldd "$tmp/example_static") shared_deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/example_shared")
	! grep -q libhypscope <<<"$static_deps" || fail "the static example links libhypscope.so"
	grep -Eq "libhypscope\.so\.[0-9.]+ => .*/libhypscope\.so\.[0-9.]+ " <<<"$shared_deps" ||
		fail "the shared example does not load the installed libhypscope.so"
fi

echo "== cpack -G DEB"
(cd "$tmp" && "$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) ||
	fail "cpack failed: $(cat "$tmp/cpack.log")"
deb=$(ls "$tmp"/deb/hypscope_*.deb)
info=$(dpkg-deb --info "$deb")
depends=$(sed -n 's/^ Depends: //p' <<<"$info")
echo "  Depends: $depends"
for lib in libunicorn2 libcapstone4 libreadline8 libsdl2 libelf1 libdw1; do
	grep -Eq "(^|, )$lib[-a-z0-9.]*( |,|$)" <<<"$depends" || fail "Depends lacks $lib"
done
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/hypscope ./usr/share/hypscope/hyp.elf ./usr/share/hypscope/guest.elf \
	./usr/share/man/man1/hypscope.1 ./usr/share/bash-completion/completions/hypscope; do
	grep -q " $f\$" <<<"$contents" || fail "the package lacks $f"
done

# The library's packages: the runtime and the development files.
lib=$(ls "$tmp"/deb/libhypscope[0-9]*_*.deb) dev=$(ls "$tmp"/deb/libhypscope-dev_*.deb)
lib_files=$(dpkg-deb --contents "$lib") dev_files=$(dpkg-deb --contents "$dev") dev_info=$(dpkg-deb --info "$dev")
grep -q "/libhypscope.so.[0-9]*\.[0-9.]*$" <<<"$lib_files" || fail "$lib lacks the shared library"
grep -q " ./usr/include/hypscope/hypscope.h$" <<<"$dev_files" || fail "$dev lacks the headers"
grep -q "/pkgconfig/hypscope.pc$" <<<"$dev_files" || fail "$dev lacks hypscope.pc"
grep -q "^ Depends: libhypscope[0-9.]* (= " <<<"$dev_info" || fail "$dev does not depend on the runtime"
for d in libunicorn-dev libcapstone-dev libelf-dev libdw-dev; do # hypscope.pc's Requires.private
	grep -q "^ Depends: .*$d" <<<"$dev_info" || fail "$dev does not depend on $d"
done
echo "  $(basename "$lib"), $(basename "$dev"): library, headers, pkg-config"

echo "== dpkg --root: the package installed into a scratch root"
root=$tmp/root
mkdir -p "$root"/var/lib/dpkg/{info,updates,triggers}
touch "$root"/var/lib/dpkg/{status,available}
# The scratch root has no libraries of its own: they come from this machine,
# where apt must be able to satisfy every Depends.
not_root=()
[ "$(id -u)" -eq 0 ] || not_root=(--force-not-root)
dpkg --root="$root" --force-depends "${not_root[@]}" -i "$deb" >"$tmp/dpkg.log" 2>&1 ||
	fail "dpkg --root -i failed: $(cat "$tmp/dpkg.log")"
boots "$root/usr/bin/hypscope"
if command -v apt-get >/dev/null; then
	apt-get -s -qq --no-install-recommends install "$deb" >"$tmp/apt.log" 2>&1 ||
		fail "apt cannot resolve the package's Depends here: $(cat "$tmp/apt.log")"
	echo "  apt-get -s install: Depends resolvable on this machine"
fi
echo "package_test: all checks passed"
