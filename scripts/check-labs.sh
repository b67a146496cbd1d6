#!/usr/bin/env bash
# make check-labs: prove that the lab graders grade (docs/course.md).
#
# For every lab of scripts/labs.py: grade this tree, which must score full
# marks; write the lab's student tree into a temporary directory
# (scripts/lab.py), build it from scratch, grade it, and require a score
# below full marks. Then, in the same student tree, stub one region at a
# time with the others solved (lab.py --variant): each of those must also
# score below full marks, or some function of the lab has no test that
# notices it missing. A stub that still earns full marks means the tests
# under it do not test. One boot per grade, with only the lab's suites.
set -uo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d /tmp/pagoda-labs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
labs=${CHECK_LABS:-$(python3 -c 'import sys; sys.path.insert(0, "scripts"); from labs import LABS; print(*LABS)')}
status=0
start=$SECONDS

# score LOG: "N M" from the grader's last line "Score: N/M".
score() { sed -n 's|^Score: \([0-9]*\)/\([0-9]*\)$|\1 \2|p' "$1" | tail -n 1; }

make -s all >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; echo "check-labs: the main tree does not build"; exit 1; }
for lab in $labs; do
	python3 scripts/grade.py "$lab" >"$tmp/$lab-main.grade" 2>&1
	read -r main_got main_max <<<"$(score "$tmp/$lab-main.grade")"

	dir=$tmp/$lab
	if ! python3 scripts/lab.py "$lab" "$dir" >"$tmp/$lab.lab" 2>&1 ||
		! make -C "$dir" -s -j2 all >"$tmp/$lab-student.build" 2>&1; then
		cat "$tmp/$lab.lab" "$tmp/$lab-student.build"
		echo "check-labs: lab $lab: the student tree does not build"
		status=1
		continue
	fi
	(cd "$dir" && python3 scripts/grade.py "$lab") >"$tmp/$lab-student.grade" 2>&1
	read -r got max <<<"$(score "$tmp/$lab-student.grade")"

	verdict=ok
	if [[ -z ${main_got:-} || $main_got != "$main_max" ]]; then
		verdict="FAIL: the main tree must score full marks"
		cat "$tmp/$lab-main.grade"
	elif [[ -z ${got:-} || $got -ge $max || $max != "$main_max" ]]; then
		verdict="FAIL: the student tree must score below full marks (of the same total)"
		cat "$tmp/$lab-student.grade"
	fi
	[[ $verdict == ok ]] || status=1
	printf 'lab %-8s main tree %s/%s, student tree %s/%s: %s\n' "$lab" "${main_got:-?}" \
		"${main_max:-?}" "${got:-?}" "${max:-?}" "$verdict"

	while read -r n where function; do
		python3 scripts/lab.py --variant "$n" "$lab" "$dir" >/dev/null &&
			make -C "$dir" -s -j2 all >"$tmp/$lab-$n.build" 2>&1 &&
			(cd "$dir" && python3 scripts/grade.py "$lab") >"$tmp/$lab-$n.grade" 2>&1
		read -r got max <<<"$(score "$tmp/$lab-$n.grade")"
		verdict=ok
		if [[ -z ${got:-} || $got -ge $max ]]; then
			verdict="FAIL: no graded case notices that $function() is missing"
			cat "$tmp/$lab-$n.build" "$tmp/$lab-$n.grade"
			status=1
		fi
		printf '    only %s() stubbed (%s): %s/%s: %s\n' "$function" "$where" "${got:-?}" \
			"${max:-?}" "$verdict"
	done < <(python3 scripts/lab.py --regions "$lab")
done
echo "check-labs: $((SECONDS - start))s"
exit $status
