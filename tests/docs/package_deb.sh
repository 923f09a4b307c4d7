#!/usr/bin/env bash
# The Debian package: cpack builds it from the build tree's install rules and CPack
# settings; it holds the binary, the man page and the three completions, and declares
# its dependencies. As root, with CI or TREERUN_TEST_INSTALL=1 set, it is also installed,
# tried and removed.
source "$(dirname "$0")/lib.sh"
need cpack dpkg-deb
BUILD=$3
[[ -f $BUILD/CPackConfig.cmake ]] || skip "$BUILD/CPackConfig.cmake is missing (configure first)"
scratch

# The build tree's own CPack configuration, with one change: instead of running the
# `preinstall` target (which builds everything, tests included), it runs the install
# script of what is already built, as `cpack` would, into the package's prefix.
cat >"$SCRATCH/config.cmake" <<CMAKE
include("$BUILD/CPackConfig.cmake")
set(CPACK_INSTALL_CMAKE_PROJECTS "")
set(CPACK_INSTALL_SCRIPTS "$BUILD/cmake_install.cmake")
if(CPACK_PACKAGING_INSTALL_PREFIX)
  set(CPACK_INSTALL_PREFIX "\${CPACK_PACKAGING_INSTALL_PREFIX}")
else()
  set(CPACK_INSTALL_PREFIX /usr)  # the DEB generator's default
endif()
if(CPACK_STRIP_FILES)
  set(CMAKE_INSTALL_DO_STRIP 1)
endif()
set(CPACK_PACKAGE_DIRECTORY "$SCRATCH/out")
CMAKE
(cd "$SCRATCH" && cpack -G DEB --config "$SCRATCH/config.cmake") >"$SCRATCH/cpack.log" 2>&1 || {
  cat "$SCRATCH/cpack.log" >&2
  echo "FAIL: cpack" >&2
  exit 1
}
debs=("$SCRATCH"/out/*.deb)
[[ -f ${debs[0]} && ${#debs[@]} -eq 1 ]] || { echo "FAIL: no single .deb in $SCRATCH/out" >&2; exit 1; }
DEB=${debs[0]}
echo "built $(basename "$DEB")"

contents=$(dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's|^\./||')
for path in usr/bin/treerun usr/share/man/man1/treerun.1 \
  usr/share/bash-completion/completions/treerun usr/share/zsh/vendor-completions/_treerun \
  usr/share/fish/vendor_completions.d/treerun.fish; do
  grep -qE "^$path(\.gz)?\$" <<<"$contents" || fail "the package lacks $path"
done
grep -E '^usr/bin/.' <<<"$contents" | grep -vqx 'usr/bin/treerun' && fail "the package holds other programs"
grep -qE '^usr/local/' <<<"$contents" && fail "the package installs under usr/local"

info=$(dpkg-deb -I "$DEB")
field() { dpkg-deb -f "$DEB" "$1"; }
[[ $(field Package) == treerun ]] || fail "Package: $(field Package)"
[[ $(field Section) == utils ]] || fail "Section: $(field Section)"
[[ -n $(field Maintainer) ]] || fail "no Maintainer"
[[ -n $(field Description) ]] || fail "no Description"
version=$("$BIN" --version | awk '{ print $NF }')
[[ $(field Version) == "$version"* ]] || fail "Version $(field Version), the program says $version"
depends=$(field Depends)
for lib in libc6 libstdc++6 libyaml-cpp libyaml-0-2 libfmt libpcre2-8-0; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
grep -q '^ Depends:' <<<"$info" || fail "dpkg-deb -I shows no Depends"

# The binary in the package is the one built here, stripped or not, and runs.
dpkg-deb -x "$DEB" "$SCRATCH/root"
"$SCRATCH/root/usr/bin/treerun" --version | grep -qx "treerun $version" || fail "the packaged binary does not run"
cmp -s "$SCRATCH/root/usr/share/man/man1/treerun.1" "$SRC/man/treerun.1" ||
  [[ -f $SCRATCH/root/usr/share/man/man1/treerun.1.gz ]] || fail "the packaged man page differs"

# `cmake --install` under /usr/local puts each completion where Debian's shell finds it
# there: zsh's site-functions (in its default fpath), fish's /etc/fish/completions.
DESTDIR="$SCRATCH/local" cmake --install "$BUILD" --prefix /usr/local >"$SCRATCH/install.log" 2>&1 ||
  { cat "$SCRATCH/install.log" >&2; fail "cmake --install --prefix /usr/local"; }
for path in usr/local/bin/treerun usr/local/share/man/man1/treerun.1 \
  usr/local/share/bash-completion/completions/treerun usr/local/share/zsh/site-functions/_treerun \
  etc/fish/completions/treerun.fish; do
  [[ -f $SCRATCH/local/$path ]] || fail "cmake --install under /usr/local lacks $path"
done

if [[ $(id -u) -eq 0 && (-n ${CI:-} || ${TREERUN_TEST_INSTALL:-} == 1) ]]; then
  installed() { dpkg-query -W -f='${Status}' treerun 2>/dev/null | grep -q 'ok installed'; }
  if installed || [[ -e /usr/bin/treerun ]]; then
    echo "note: treerun is already installed here; not installing the package over it"
  else
    need dpkg man
    # --path-include: minimal images exclude /usr/share/man from what dpkg unpacks.
    dpkg --path-include='/usr/share/man/man1/treerun.1*' -i "$DEB" >"$SCRATCH/dpkg.log" 2>&1 ||
      { cat "$SCRATCH/dpkg.log" >&2; fail "dpkg -i"; }
    if installed; then
      /usr/bin/treerun --version | grep -qx "treerun $version" || fail "installed: treerun --version"
      man -w treerun >/dev/null 2>&1 || fail "installed: man -w treerun finds nothing"
      [[ -f /usr/share/bash-completion/completions/treerun ]] || fail "installed: no bash completion"
      dpkg -r treerun >"$SCRATCH/dpkg.log" 2>&1 || { cat "$SCRATCH/dpkg.log" >&2; fail "dpkg -r"; }
      [[ -e /usr/bin/treerun ]] && fail "dpkg -r left /usr/bin/treerun"
    fi
    echo "installed, tried and removed the package"
  fi
fi
finish
