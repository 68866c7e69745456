#!/usr/bin/env bash
# The generated manual page and the shell completion (ctest: cli_man_page,
# cli_bash_completion). Both come from the binary's own tables, so these
# check that they cover all of it and work as a user meets them.
# usage: cli_docs_test.sh man|completion HYPSCOPE MAN_PAGE|COMPLETION_SCRIPT
set -euo pipefail
what=$1 bin=$(realpath "$2") file=$(realpath "$3")
fail() { echo "cli_docs_test: FAIL: $*" >&2; exit 1; }
commands=$("$bin" --complete -ex '')
options=$("$bin" --complete -)
[ "$(wc -l <<<"$commands")" -gt 20 ] || fail "--complete -ex '' lists too few commands: $commands"
case $what in
man)
	# The installed page is what this binary prints (the build step is not stale) ...
	diff <("$bin" --man) "$file" >/dev/null || fail "$file differs from \`$bin --man\`"
	# ... it is clean roff ...
	warnings=$(groff -man -ww -z "$file" 2>&1) || fail "groff failed: $warnings"
	[ -z "$warnings" ] || fail "groff warnings: $warnings"
	text=$(MANWIDTH=200 man -l "$file" 2>/dev/null | col -b)
	# ... and documents every command `help` lists and every option `--help` lists.
	while read -r cmd; do
		grep -Eq "^ {7}$cmd([ [/]|$)" <<<"$text" || fail "the man page lacks the command '$cmd'"
	done <<<"$commands"
	while read -r opt; do
		grep -Eq -- "(^| )$opt([ ,]|$)" <<<"$text" || fail "the man page lacks the option '$opt'"
	done <<<"$options"
	echo "man page: $(wc -l <<<"$commands") commands, $(wc -l <<<"$options") options documented"
	;;
completion)
	# shellcheck disable=SC1090
	source "$file"
	complete_words() { # WORDS...: what bash would offer for the last one
		COMP_WORDS=("$bin" "$@")
		COMP_CWORD=$#
		COMPREPLY=()
		_hypscope 2>/dev/null
		printf '%s\n' "${COMPREPLY[@]}"
	}
	expect() { # CANDIDATE WORDS...
		local want=$1 got
		shift
		got=$(complete_words "$@")
		grep -qxF -- "$want" <<<"$got" || fail "completing '$*' does not offer '$want' (got: $(tr '\n' ' ' <<<"$got"))"
	}
	expect --hyp-va-bits --hyp
	expect render r
	expect boot -ex bo
	expect "pt dump" -ex "'pt d"
	expect "hvc host_share_hyp" -ex "'hvc host_sh"
	expect "break __pkvm_init" -ex "'break __pkvm_ini"
	expect timeline render --view t
	expect --junit run --j
	cd "$(dirname "$file")"
	expect "$(basename "$file")" --hyp "$(basename "$file" | cut -c1-3)"
	echo "bash completion: options, modes, commands, symbols and file names complete"
	;;
*) fail "unknown check $what" ;;
esac
