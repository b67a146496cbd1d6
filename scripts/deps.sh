#!/usr/bin/env bash
# Install the host packages Pagoda needs, if any are missing (Debian/Ubuntu).
# Each entry is "package:thing-that-proves-it-is-installed" (a command on the
# PATH, or an absolute file path).
set -euo pipefail

need=(
	nasm:nasm
	grub-common:grub-mkrescue
	grub-pc-bin:/usr/lib/grub/i386-pc/modinfo.sh
	grub-efi-amd64-bin:/usr/lib/grub/x86_64-efi/modinfo.sh
	xorriso:xorriso
	mtools:mformat
	qemu-system-x86:qemu-system-x86_64
	ovmf:/usr/share/OVMF/OVMF_CODE_4M.fd
	console-setup-linux:/usr/share/consolefonts/Lat15-Terminus16.psf.gz
	python3:python3
	musl-tools:musl-gcc
	linux-libc-dev:/usr/include/linux/fb.h
	cpio:cpio
	busybox-static:/bin/busybox
	gnuplot-nox:gnuplot
	gcc:gcc
	libc6-dev:/usr/lib/x86_64-linux-gnu/libc.a
	binutils:ld
	make:make
	gdb:gdb
	git:git
)

missing=()
for entry in "${need[@]}"; do
	pkg=${entry%%:*}
	probe=${entry#*:}
	if [[ $probe == /* ]]; then
		[[ -e $probe ]] || missing+=("$pkg")
	else
		command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg")
	fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing missing host packages: ${missing[*]}" >&2
if [[ $(id -u) -eq 0 ]]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1; then
	sudo=(sudo)
else
	echo "deps: not root and no sudo; please install: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get update -qq ||
	! "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
	echo "deps: apt-get failed; please install: ${missing[*]}" >&2
	exit 1
fi
