#!/usr/bin/env bash
# Print the path of Debian's Linux 6.1 kernel image, downloading the
# package once (apt-get download, unpacked with dpkg -x, never installed)
# into build/linux/. Used by scripts/linux-test.sh and scripts/bench.sh.
# Environment: LINUX_PKG=linux-image-6.1.0-NN-amd64-unsigned to choose.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/linux
mkdir -p "$out"

pick_package() {
	apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' |
		awk '{print $1}' | sort -V | tail -n 1
}

vmlinuz=$(ls "$out"/root/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
if [[ -z $vmlinuz ]]; then
	pkg=${LINUX_PKG:-$(pick_package)}
	if [[ -z $pkg ]]; then
		apt-get update -qq || true
		pkg=$(pick_package)
	fi
	[[ -n $pkg ]] || { echo "linux-kernel: no linux-image-6.1.0-*-amd64-unsigned package" >&2; exit 1; }
	echo "linux-kernel: downloading $pkg" >&2
	rm -rf "$out/deb" "$out/root"
	mkdir -p "$out/deb"
	(cd "$out/deb" && apt-get download -q "$pkg" >/dev/null)
	dpkg -x "$out"/deb/*.deb "$out/root"
	rm -rf "$out/deb"
	vmlinuz=$(ls "$out"/root/boot/vmlinuz-* | head -n 1)
fi
echo "$vmlinuz"
