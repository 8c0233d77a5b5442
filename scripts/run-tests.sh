#!/bin/sh
# Run cmocka test programs; print each program's result and, last, one
# tally of test cases: "tests: N passed, N failed".
# usage: run-tests.sh BUILD_DIR TEST_BIN...
build="$1"; shift
pass=0; fail=0; bad=0
for t in "$@"; do
	name=${t#"$build"/tests/}
	log="$t.log"
	"$t" >"$log" 2>&1
	rc=$?
	ok=$(grep -c '^\[       OK \]' "$log")
	# cmocka names a failed test twice (when it fails and in its
	# summary): count each name once
	ko=$(grep '^\[  FAILED  \] test' "$log" | sort -u | wc -l)
	pass=$((pass + ok)); fail=$((fail + ko))
	if [ $rc -eq 0 ]; then
		echo "PASS $name ($ok)"
		# a test's own summary ("note: ...") and why it skipped
		grep -E '^(note|SKIP): ' "$log" | sed 's/^/    /'
	else
		[ $ko -eq 0 ] && fail=$((fail + 1))   # crashed before reporting
		bad=$((bad + 1))
		echo "FAIL $name"; tail -40 "$log" | sed 's/^/    /'
	fi
done
echo "tests: $pass passed, $fail failed"
[ $bad -eq 0 ]
