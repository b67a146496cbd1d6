#!/usr/bin/env bash
# Make a hybrid BIOS+UEFI ISO from build/kernel.elf and iso/grub.cfg.
# usage: scripts/mkiso.sh OUT.iso "extra kernel command line" [initramfs]
# Environment: KERNEL=path of the kernel (default build/kernel.elf).
# GFXPAYLOAD=text in the environment makes GRUB hand over an EGA text
# framebuffer tag (80x25 at 0xb8000) instead of the 1024x768 graphics mode.
set -euo pipefail
out=$1
cmdline=${2:-}
initrd=${3:-}
root=$(mktemp -d "${out%.iso}.root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/boot/grub"
cp "${KERNEL:-build/kernel.elf}" "$root/boot/kernel.elf"
# sed replacement: escape \, & and the delimiter; keep "\$" for GRUB.
esc=$(printf '%s' "$cmdline" | sed -e 's/[\\&|]/\\&/g')
sed -e "s|@CMDLINE@|$esc|" iso/grub.cfg > "$root/boot/grub/grub.cfg"
# GRUB's multiboot2 command sets gfxpayload from the kernel's header, so
# an override must come after it.
if [[ -n ${GFXPAYLOAD:-} ]]; then
	sed -i -e "s|^\(\s*multiboot2 .*\)\$|&\n\tset gfxpayload=$GFXPAYLOAD|" "$root/boot/grub/grub.cfg"
fi
if [[ -n $initrd ]]; then
	cp "$initrd" "$root/boot/initramfs.cpio"
	sed -i -e 's|^\(\s*multiboot2 .*\)$|&\n\tmodule2 /boot/initramfs.cpio initramfs|' "$root/boot/grub/grub.cfg"
fi
grub-mkrescue -o "$out" "$root" >/dev/null 2>&1 || {
	echo "mkiso: grub-mkrescue failed:" >&2
	grub-mkrescue -o "$out" "$root"
	exit 1
}
