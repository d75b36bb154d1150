#!/bin/sh
# One flow from a compiled policy file (issue 18) beside the same flow from
# the JSON it was compiled from (both the CLI's focused one-flow build), and
# the full build from the JSON (the path before): wall (median of farm-bench's runs when it is
# installed, else of /usr/bin/time's) and peak RSS.  Figures are printed,
# never asserted.
#
#   sh bench/nsgp.sh CLI ENVDIR [TAGS]
#
# ENVDIR is an environment directory with a flows.txt (nsgsim-benchgen
# --estate writes one), or any environment (then a fixed flow is used).
set -eu
cli=$1
env=$2
tags=${3:-}
out=${TMPDIR:-/tmp}/nsgsim-bench-nsgp.$$
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
policy=$out/policy.nsgp
tagopt=""
[ -n "$tags" ] && tagopt="--service-tags $tags"
flow="tcp 93.184.216.34 10.1.1.4:443"
if [ -f "$env/flows.txt" ]; then
	flow=$(grep -v '^#' "$env/flows.txt" | head -n 1)
fi
# shellcheck disable=SC2086
"$cli" compile -q --env "$env" $tagopt -o "$policy"
echo "== nsgp: $env ($(wc -c <"$policy") bytes compiled), flow: $flow"
rss() { # peak RSS in KB of one run
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}
if command -v farm-bench >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	farm-bench -n 7 --vs "$cli eval -q --env $env $tagopt $flow" \
		-- "$cli" eval -q --policy "$policy" $flow | sed 's/^/   /'
	# The path before issue 18: every classifier built from the JSON (the
	# one-flow default is a focused query build, the same answer).
	echo "   full build from --env (--engine compiled), the path before:"
	# shellcheck disable=SC2086
	farm-bench -n 5 -- "$cli" eval -q --engine compiled --env "$env" $tagopt $flow |
		grep -E 'wall|peak' | sed 's/^/   /'
else
	for mode in policy env; do
		for i in 1 2 3 4 5; do
			if [ $mode = policy ]; then
				/usr/bin/time -f %e "$cli" eval -q --policy "$policy" $flow 2>&1 >/dev/null | tail -n 1
			else
				# shellcheck disable=SC2086
				/usr/bin/time -f %e "$cli" eval -q --env "$env" $tagopt $flow 2>&1 >/dev/null | tail -n 1
			fi
		done | sort -n | sed -n 3p | sed "s/^/   $mode wall median s: /"
	done
fi
if [ -x /usr/bin/time ]; then
	echo "   peak RSS --policy: $(rss "$cli" eval -q --policy "$policy" $flow) KB"
	# shellcheck disable=SC2086
	echo "   peak RSS --env:    $(rss "$cli" eval -q --env "$env" $tagopt $flow) KB"
fi
