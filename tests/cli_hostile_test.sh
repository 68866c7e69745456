#!/bin/sh
# Hostile command lines and files: each must fail with the stated exit status
# and message, promptly (no blocking on a FIFO, no reading /dev/zero forever),
# and without leaks (the sanitizer build runs this with LeakSanitizer on).
# Usage: cli_hostile_test.sh HYPSCOPE
H=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/fifo"
fails=0

# expect STATUS REGEX -- COMMAND...: STATUS is an exit code or "nonzero".
expect() {
	want=$1 re=$2
	shift 3
	out=$(timeout 60 "$@" 2>&1)
	st=$?
	ok=1
	case $want in
	nonzero) [ $st -ne 0 ] || ok=0 ;;
	*) [ $st -eq "$want" ] || ok=0 ;;
	esac
	[ $st -eq 124 ] && ok=0
	printf "%s" "$out" | tr "\n" " " | grep -Eq -- "$re" || ok=0
	printf '%s\n' "$out" | grep -q "Sanitizer" && ok=0
	if [ $ok -eq 0 ]; then
		echo "FAIL: $* -> status $st (want $want, /$re/):"
		printf '%s\n' "$out" | tail -5
		fails=$((fails + 1))
	fi
}

# Usage errors: status 2, a message, nothing leaked.
expect 2 "unknown argument '--frob'" -- "$H" --frob
expect 2 "needs a value" -- "$H" --hyp
expect 2 "--cpus 'x'" -- "$H" --cpus x
expect 2 "no scenario files" -- "$H" run
expect 2 "--junit only goes with run" -- "$H" --junit x.xml
# Images and guest programs that cannot be used: said at start-up, never a hang.
expect nonzero "is not a regular file \(a FIFO\)" -- "$H" --batch --hyp "$tmp/fifo"
expect nonzero "is a directory" -- "$H" --batch --hyp "$tmp"
expect 2 "--guest: .*is not a regular file \(a FIFO\)" -- "$H" --guest "$tmp/fifo" --batch -ex boot
expect 2 "--guest: .*nonexistent/guest.elf" -- "$H" --guest /nonexistent/guest.elf --batch -ex boot
expect 2 "--guest: .*not an ELF" -- "$H" --guest /etc/hostname --batch
# Scenario files that are not files: a failure, never PASS.
expect 1 "is a directory.*0 passed, 1 failed" -- "$H" run "$tmp"
expect 1 "character device.*0 passed, 1 failed" -- "$H" run /dev/zero
expect 1 "a FIFO" -- "$H" --batch -x "$tmp/fifo"
expect 1 "is a directory" -- "$H" --batch -x "$tmp"
# Values out of range are refused, not wrapped.
long=$(head -c 5000 /dev/zero | tr '\0' 'a')
expect 1 "line longer than 4096" -- "$H" --batch -ex "$long"
expect 1 "column 20: .-18446744073709551615. is neither a number nor a symbol" -- "$H" --batch -ex boot -ex "hvc host_share_hyp -18446744073709551615"
expect 1 "not a line number" -- "$H" --batch -ex boot -ex "list mm.c:2147483647"
expect 1 "not a line number" -- "$H" --batch -ex boot -ex "break mm.c:2147483648"
# `list` reads only the image's own sources.
expect 1 "not a source file of the hypervisor image" -- "$H" --batch -ex boot -ex "list /dev/zero:100000"
expect 1 "not a source file of the hypervisor image" -- "$H" --batch -ex boot -ex "list /etc/passwd:1"
expect 0 "=> +20 " -- "$H" --batch -ex boot -ex "list mm.c:20"
# The most negative number is a number.
expect 0 "Breakpoint 1 at 0x8000000000000000" -- "$H" --batch -ex boot -ex "break 0x8000000000000000"
# The trace is bounded (configurable): the oldest calls go, with a note.
expect 0 "trace truncated: .*#6 +cpu0 +@[0-9]+ +nop\(\).*#7 +cpu0 +@[0-9]+ +nop\(\)" -- "$H" --batch -ex boot \
	-ex "trace limit 2" -ex "hvc nop" -ex "hvc nop" -ex "hvc nop" -ex "hvc nop" -ex trace
expect 1 "not a count of 1 or more" -- "$H" --batch -ex boot -ex "trace limit 0"
expect 1 "keeps 1 to 100000000" -- "$H" --batch -ex boot -ex "trace limit 100000001"
# The host model never gives its own code page away.
expect 1 "covers the host's own code page" -- "$H" --batch -ex boot -ex "hvc host_donate_hyp 0x40000 1"

[ $fails -eq 0 ] && echo "all hostile command lines handled"
exit $fails
