#!/usr/bin/env bash
# Print the path of one of Debian's Linux kernel images, downloading the
# package once (apt-get download, unpacked with dpkg -x, never installed).
# Used by scripts/linux-test.sh and the make bench scripts.
#
# usage: scripts/linux-kernel.sh [6.1|6.12]   (default 6.1)
#   6.1   linux-image-6.1.0-NN-amd64-unsigned, Debian 12's own kernel,
#         unpacked under build/linux/
#   6.12  linux-image-6.12.NN+deb12-amd64-unsigned, from Debian 12's
#         security archive, unpacked under build/linux-6.12/
# Environment: LINUX_PKG=package-name to choose the exact package.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-6.1}
case $version in
6.1) out=build/linux; pattern='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' ;;
6.12) out=build/linux-6.12; pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
*) echo "linux-kernel: unknown version $version (6.1 or 6.12)" >&2; exit 2 ;;
esac
mkdir -p "$out"

pick_package() {
	apt-cache search --names-only "$pattern" | awk '{print $1}' | sort -V | tail -n 1
}

vmlinuz=$(ls "$out"/root/boot/vmlinuz-* 2>/dev/null | head -n 1 || true)
if [[ -z $vmlinuz ]]; then
	pkg=${LINUX_PKG:-$(pick_package)}
	if [[ -z $pkg ]]; then
		apt-get update -qq || true
		pkg=$(pick_package)
	fi
	[[ -n $pkg ]] || { echo "linux-kernel: no package matches $pattern" >&2; exit 1; }
	echo "linux-kernel: downloading $pkg" >&2
	rm -rf "$out/deb" "$out/root"
	mkdir -p "$out/deb"
	(cd "$out/deb" && apt-get download -q "$pkg" >/dev/null)
	dpkg -x "$out"/deb/*.deb "$out/root"
	rm -rf "$out/deb"
	vmlinuz=$(ls "$out"/root/boot/vmlinuz-* | head -n 1)
fi
echo "$vmlinuz"
