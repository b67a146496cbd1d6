#!/usr/bin/env bash
# Stage Debian's dynamically linked programs and the libraries they need
# into the initramfs tree DEST (user/Makefile.inc calls this):
#
#   /bin/busybox-dynamic            the busybox package's binary (glibc,
#                                   dynamic), not busybox-static
#   /bin/dash                       the dash package's
#   /lib/x86_64-linux-gnu/          ld-linux-x86-64.so.2, libc.so.6,
#                                   libresolv.so.2 (libc6)
#   /lib64/ld-linux-x86-64.so.2     -> the one above (PT_INTERP of both)
#   /lib/x86_64-linux-musl/libc.so  musl's libc and dynamic linker (musl)
#   /lib/ld-musl-x86_64.so.1        -> it (PT_INTERP of musl-gcc programs)
#
# dash, libc6 and musl are installed on the build machine (dash and libc6
# are essential; musl comes with musl-tools): their files are copied from
# the installed packages, after dpkg says which package owns each. busybox
# conflicts with busybox-static, so its package is downloaded once into
# build/debs/ (apt-get download, unpacked with dpkg -x, never installed).
#
# usage: scripts/dynamic-programs.sh DEST
set -euo pipefail
dest=$1
debs=build/debs

# A file of an installed package, copied with its mode.
copy_from() { # package path-on-host path-in-dest
	local owner
	owner=$(dpkg -S "$2" 2>/dev/null | cut -d: -f1 | head -n 1)
	if [[ $owner != "$1" ]]; then
		echo "dynamic-programs: $2 does not belong to package $1 (dpkg says '${owner:-none}')" >&2
		exit 1
	fi
	mkdir -p "$(dirname "$dest/$3")"
	cp -L "$(readlink -f "$2")" "$dest/$3"
}

busybox_deb() {
	local deb
	deb=$(ls "$debs"/busybox_*.deb 2>/dev/null | head -n 1 || true)
	if [[ -z $deb ]]; then
		mkdir -p "$debs"
		(cd "$debs" && apt-get download -q busybox >/dev/null 2>&1) ||
			{ apt-get update -qq && (cd "$debs" && apt-get download -q busybox >/dev/null); }
		deb=$(ls "$debs"/busybox_*.deb | head -n 1)
	fi
	echo "$deb"
}

deb=$(busybox_deb)
rm -rf "$debs/busybox-root"
dpkg -x "$deb" "$debs/busybox-root"
mkdir -p "$dest/bin" "$dest/lib64" "$dest/lib/x86_64-linux-gnu" "$dest/lib/x86_64-linux-musl"
cp "$debs/busybox-root/bin/busybox" "$dest/bin/busybox-dynamic"

copy_from dash /bin/dash bin/dash
for lib in ld-linux-x86-64.so.2 libc.so.6 libresolv.so.2; do
	copy_from libc6 "/lib/x86_64-linux-gnu/$lib" "lib/x86_64-linux-gnu/$lib"
done
ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$dest/lib64/ld-linux-x86-64.so.2"
copy_from musl /lib/x86_64-linux-musl/libc.so lib/x86_64-linux-musl/libc.so
ln -sf x86_64-linux-musl/libc.so "$dest/lib/ld-musl-x86_64.so.1"
