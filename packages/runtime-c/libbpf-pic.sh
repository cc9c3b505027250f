#!/usr/bin/env bash
# Builds a position-independent static libbpf (Debian's libbpf.a is compiled
# as PIE, not PIC, so it cannot be linked into bpf.so) from Debian's source
# package of the installed libbpf-dev version, once, and caches it:
#
#   ${COOLBPF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coolbpf}/libbpf-pic/<version>-<cflags digest>/
#     lib/libbpf.a        static, -fPIC, a section per function
#     include/bpf/*.h     the headers `make install_headers` installs
#     .complete           stamp; the cache is used only when it exists
#
# Prints the cache directory on stdout (its only stdout output). Progress goes
# to stderr, nothing when the cache is already there. On failure, prints one
# line on stderr saying what failed and why, and exits non-zero.
set -euo pipefail

say() { printf 'libbpf-pic: %s\n' "$*" >&2; }
die() { printf 'libbpf-pic: error: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

# Runs "$@" with its output in $log; on failure dies with $1 and the last
# non-empty line of the output as the reason.
log=/dev/null
run() {
  local what=$1; shift
  if ! "$@" >>"$log" 2>&1; then
    local why
    why=$(grep -v '^[[:space:]]*$' "$log" 2>/dev/null | tail -n 1 | tr -s '[:space:]' ' ' || true)
    die "$what failed${why:+: $why}"
  fi
}

command -v dpkg-query >/dev/null || die "dpkg-query not found (this script needs Debian)"
version=$(dpkg-query -W -f='${Version}' libbpf-dev 2>/dev/null) || version=
[ -n "$version" ] || die "libbpf-dev is not installed (apt-get install libbpf-dev)"
srcpkg=$(dpkg-query -W -f='${source:Package}' libbpf-dev 2>/dev/null) || srcpkg=
srcpkg=${srcpkg:-libbpf}
# A binNMU (+bN) has no source package of its own.
srcver=$(printf '%s' "$version" | sed -E 's/\+b[0-9]+$//')

# -ffunction-sections/-fdata-sections: bpf.so is linked with --gc-sections,
# which then drops the parts of libbpf the runtime never calls (a fifth of
# bpf.so). The flags are part of the cache directory's name.
cflags="-g -O2 -Wall -std=gnu89 -fPIC -ffunction-sections -fdata-sections"
base="${COOLBPF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coolbpf}/libbpf-pic"
cache="$base/${version//:/_}-$(printf '%s' "$cflags" | sha256sum | cut -c1-8)"

cached() { [ -f "$cache/lib/libbpf.a" ] && [ -f "$cache/.complete" ]; }
if cached; then printf '%s\n' "$cache"; exit 0; fi

mkdir -p "$base" || die "cannot create cache directory $base"
# One build at a time per cache; a second caller waits, then finds it done.
exec 9>"$base/.lock" || die "cannot write lock file $base/.lock"
flock 9 || die "cannot lock $base/.lock"
if cached; then printf '%s\n' "$cache"; exit 0; fi

stage="$cache.tmp.$$"
work=$(mktemp -d "${TMPDIR:-/tmp}/coolbpf-libbpf.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$work" "$stage"' EXIT
log="$work/log"
: >"$log"

say "building a PIC libbpf $version (once; cached in $cache)"

# --- deb-src entries ----------------------------------------------------------
have_deb_src() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && grep -qE '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -qiE '^[[:space:]]*Types:.*(^|[[:space:]])deb-src([[:space:]]|$)' "$f" && return 0
  done
  return 1
}

sources_changed=0
if ! have_deb_src; then
  # deb822: copy every stanza of debian.sources that has "deb" in its Types
  # as a stanza with "Types: deb-src", all other fields unchanged.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    deb822=$(awk '
      function flush() { if (n > 0 && isdeb) { if (out++) print ""; for (i = 1; i <= n; i++) print s[i] } n = 0; isdeb = 0 }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:" {
        for (i = 2; i <= NF; i++) if ($i == "deb") isdeb = 1
        s[++n] = "Types: deb-src"; next
      }
      { s[++n] = $0 }
      END { flush() }' /etc/apt/sources.list.d/debian.sources)
    if [ -n "$deb822" ]; then
      say "adding deb-src entries: /etc/apt/sources.list.d/coolbpf-deb-src.sources"
      printf '# Added by coolbpf scripts/libbpf-pic.sh: the deb-src twin of debian.sources.\n%s\n' "$deb822" \
        | as_root tee /etc/apt/sources.list.d/coolbpf-deb-src.sources >/dev/null \
        || die "cannot write /etc/apt/sources.list.d/coolbpf-deb-src.sources (need root)"
      sources_changed=1
    fi
  fi
  # Classic one-line format: a deb-src line for every deb line.
  if [ -f /etc/apt/sources.list ]; then
    classic=$(sed -nE 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' /etc/apt/sources.list)
    if [ -n "$classic" ]; then
      say "adding deb-src entries: /etc/apt/sources.list.d/coolbpf-deb-src.list"
      printf '# Added by coolbpf scripts/libbpf-pic.sh: the deb-src twin of sources.list.\n%s\n' "$classic" \
        | as_root tee /etc/apt/sources.list.d/coolbpf-deb-src.list >/dev/null \
        || die "cannot write /etc/apt/sources.list.d/coolbpf-deb-src.list (need root)"
      sources_changed=1
    fi
  fi
  [ "$sources_changed" = 1 ] || die "no deb entries found in /etc/apt to derive deb-src entries from"
fi

# --- build tools ----------------------------------------------------------------
missing=()
for p in dpkg-dev make gcc libelf-dev zlib1g-dev pkg-config; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# apt-cache may print the source version with or without its epoch.
src_known() {
  apt-cache showsrc --only-source "$srcpkg" 2>/dev/null \
    | grep -qxE "Version: ([0-9]+:)?$(printf '%s' "${srcver#*:}" | sed 's/[.+]/\\&/g')"
}
if [ "$sources_changed" = 1 ] || [ ${#missing[@]} -gt 0 ] || ! src_known; then
  say "apt-get update"
  run "apt-get update" as_root apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  run "apt-get install ${missing[*]}" as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
src_known || die "apt knows no source package $srcpkg=$srcver (is it still in the configured Debian suites?)"

# --- fetch and build --------------------------------------------------------------
say "fetching source $srcpkg=$srcver"
sandbox=()
[ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)
(cd "$work" && run "apt-get source $srcpkg=${srcver#*:}" apt-get "${sandbox[@]}" -qq source "$srcpkg=${srcver#*:}")
srcdir=$(find "$work" -mindepth 3 -maxdepth 3 -type f -path '*/src/Makefile' -printf '%h\n' | head -n 1)
[ -n "$srcdir" ] || die "apt-get source $srcpkg=$srcver unpacked no src/Makefile in $work"

# libbpf compiles the objects of libbpf.a with ALL_CFLAGS, which includes
# CFLAGS (its default is "-g -O2 -Werror -Wall -std=gnu89"): add -fPIC, and
# drop -Werror so a newer compiler's new warnings do not break the build.
say "compiling (make -j$(nproc))"
run "make libbpf.a" make -C "$srcdir" -j"$(nproc)" BUILD_STATIC_ONLY=1 OBJDIR="$work/obj" \
  CFLAGS="$cflags -ffile-prefix-map=$srcdir=libbpf" "$work/obj/libbpf.a"
run "make install_headers" make -C "$srcdir" BUILD_STATIC_ONLY=1 OBJDIR="$work/obj" \
  DESTDIR="$stage" PREFIX= INCLUDEDIR=/include install_headers
install -D -m 644 "$work/obj/libbpf.a" "$stage/lib/libbpf.a" || die "cannot write $stage/lib/libbpf.a"

# Prove it is PIC: the whole archive must link into a shared object.
run "PIC check (linking libbpf.a into a shared object)" \
  gcc -shared -o "$work/pic-check.so" -Wl,--whole-archive "$stage/lib/libbpf.a" -Wl,--no-whole-archive -lelf -lz
[ -f "$stage/include/bpf/libbpf.h" ] || die "make install_headers installed no bpf/libbpf.h"

# Publish atomically: the stamp goes in before the rename, so the cache
# directory appears complete or not at all.
printf 'libbpf-dev %s\nsource %s %s\ncflags %s\n' "$version" "$srcpkg" "$srcver" "$cflags" \
  >"$stage/.complete"
rm -rf "$cache" || die "cannot remove incomplete $cache"
mv "$stage" "$cache" || die "cannot move $stage to $cache"
say "done"
printf '%s\n' "$cache"
