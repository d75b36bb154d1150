#!/bin/sh
# Compile time and peak memory as the estate grows (issue 18): for each size
# N, nsgsim-benchgen --estate N writes the estate, and one `nsgsim eval` of
# its first flow is timed as a whole process, with the full build (every
# classifier and the policy-wide classes: --engine compiled) and with the
# CLI's one-flow build (no classifiers).  Prints a Markdown table; nothing
# is asserted.  Usage: bench/growth.sh BUILD_DIR DATA_DIR TAGS [N...]
set -eu
B=$1 DATA=$2 TAGS=$3
shift 3
[ $# -gt 0 ] || set -- 2000 14000 50000 200000
best() { # best-of-3 wall seconds and the peak RSS (KB) of "$@"
	w=999 m=0
	for i in 1 2 3; do
		/usr/bin/time -f '%e %M' -o "$DATA/.growth.t" "$@" >/dev/null 2>&1 || true
		tw=$(tail -n 1 "$DATA/.growth.t" | cut -d ' ' -f 1)
		tm=$(tail -n 1 "$DATA/.growth.t" | cut -d ' ' -f 2)
		w=$(awk -v a="$w" -v b="$tw" 'BEGIN { print (b < a) ? b : a }')
		[ "$tm" -gt "$m" ] && m=$tm
	done
	echo "$w $m"
}
echo "| rules | full build: wall | peak RSS | KB per rule | one-flow build: wall | peak RSS |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in "$@"; do
	d=$DATA/estate$n
	[ -f "$d/nsgs.json" ] || "$B/nsgsim-benchgen" --estate "$n" "$d" "$TAGS" >/dev/null
	flow=$(head -n 1 "$d/flows.txt")
	# shellcheck disable=SC2086
	set -- $flow
	full=$(best "$B/nsgsim" eval --engine compiled --env "$d" --service-tags "$TAGS" "$@")
	one=$(best "$B/nsgsim" eval --env "$d" --service-tags "$TAGS" "$@")
	rules=$(grep -o '"priority"' "$d/nsgs.json" | wc -l)
	echo "$n $rules $full $one" | awk '{ printf "| %d | %.2f s | %.0f MB | %.1f | %.2f s | %.0f MB |\n",
		$2, $3, $4 / 1024, $4 / $2, $5, $6 / 1024 }'
done
rm -f "$DATA/.growth.t"
