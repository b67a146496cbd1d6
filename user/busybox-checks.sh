# Run by Debian's busybox-static as pid 1 (make test's busybox boot:
# init=/bin/busybox -- sh /bin/busybox-checks.sh). An unmodified glibc
# program running applets, pipes and child programs is the proof that the
# system-call ABI is real. Prints KTAP like the other suites; the exit
# status becomes init's, and the kernel powers off with it.

n=0
fails=0
check() {
	n=$((n + 1))
	name=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		echo "    ok $n $name"
	else
		echo "    not ok $n $name"
		fails=$((fails + 1))
		sed 's/^/    # /' /tmp/check.out
	fi
}

echo "KTAP version 1"
echo "1..1"
echo "    KTAP version 1"
echo "    # Subtest: busybox"
echo "    1..8"
check busybox_lists_dev sh -c 'ls /dev | grep -qx console && ls /dev | grep -qx null'
check busybox_reads_proc_self_maps sh -c 'grep -q "\[stack\]" /proc/self/maps'
check busybox_maps_names_its_program sh -c 'grep -q "r-xp .*/bin/busybox" /proc/self/maps'
check busybox_pipes_between_applets sh -c 'echo pagoda | tr a-z A-Z | grep -qx PAGODA'
check busybox_runs_another_program sh -c '/bin/exectest >/dev/null'
check busybox_runs_applet_via_proc_self_exe sh -c 'test "$(readlink /proc/self/exe)" = /bin/busybox'
check busybox_uname_says_x86_64 sh -c 'test "$(uname -m)" = x86_64'
check busybox_reads_meminfo sh -c 'grep -q "^MemTotal:" /proc/meminfo'
echo "# busybox: pass:$((n - fails)) fail:$fails skip:0 total:$n"
if [ "$fails" -eq 0 ]; then echo "ok 1 busybox"; else echo "not ok 1 busybox"; fi
echo "# Totals: pass:$((n - fails)) fail:$fails skip:0 total:$n"
exit "$fails"
