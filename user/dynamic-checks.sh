# Run by Debian's dash as pid 1 in make test's dynamic boot
# (init=/bin/dash -- /bin/dynamic-checks.sh): dynamically linked programs
# from Debian's packages (dash, the busybox package's busybox, both on
# glibc's ld.so) and a program linked by plain musl-gcc (musl's dynamic
# linker) run a script of applets, pipes, loops and /proc checks. Prints
# KTAP like the other suites; its exit status becomes init's.

bb=/bin/busybox-dynamic
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
		$bb sed 's/^/    # /' /tmp/check.out
	fi
}

loop_to_ten() {
	i=0
	while [ "$i" -lt 10 ]; do i=$((i + 1)); done
	[ "$i" = 10 ]
}

echo "KTAP version 1"
echo "1..1"
echo "    KTAP version 1"
echo "    # Subtest: dynamic"
echo "    1..10"
check dash_runs_a_loop loop_to_ten
check dash_maps_show_glibc_and_its_linker \
	$bb sh -c "$bb grep -q 'r-xp .*/lib/x86_64-linux-gnu/libc.so.6' /proc/$$/maps && $bb grep -q ld-linux-x86-64.so.2 /proc/$$/maps"
check busybox_pipes_between_applets \
	dash -c "echo pagoda | $bb tr a-z A-Z | $bb grep -qx PAGODA"
check busybox_maps_show_its_libraries \
	dash -c "$bb cat /proc/self/maps | $bb grep -q 'busybox-dynamic' && $bb cat /proc/self/maps | $bb grep -q libresolv.so.2"
check busybox_shell_runs_a_loop_in_a_pipe \
	dash -c "test \"\$($bb sh -c 'for i in 1 2 3 4; do echo \$i; done' | $bb wc -l)\" = 4"
check dash_command_substitution_and_arithmetic \
	dash -c 'x=$(echo a b c | '$bb' wc -w); test $((x * 2)) = 6'
check musl_program_says_hello /bin/muslhello one
check musl_program_maps_musl_libc \
	dash -c "/bin/muslhello | $bb grep -q 'r-xp .*/lib/x86_64-linux-musl/libc.so'"
check static_programs_still_run dash -c '/bin/exectest >/dev/null'
check meminfo_counts_the_cached_programs \
	dash -c "$bb awk '/^Cached:/ { c = \$2 } /^Mapped:/ { m = \$2 } END { exit !(c > 1000 && m > 0) }' /proc/meminfo"
echo "# dynamic: pass:$((n - fails)) fail:$fails skip:0 total:$n"
if [ "$fails" -eq 0 ]; then echo "ok 1 dynamic"; else echo "not ok 1 dynamic"; fi
echo "# Totals: pass:$((n - fails)) fail:$fails skip:0 total:$n"
exit "$fails"
