#!/bin/sh
# `nsgsim eval --flows` through the CLI, from a file to /dev/null, for make bench-flows.
#
#   sh bench/flows.sh NSGSIM DATA [TAGS]
#
# Writes DATA/flows-hub-1m.txt (flows-hub.txt five times: 1,000,000 flows) and
# times, best of 5, the whole process over it with --jobs 1 and --jobs 2 and
# over an empty file (the load and compile alone); flows/s is 1,000,000 over
# the difference.  Then, under callgrind when valgrind is installed, the
# instructions per flow: runs of 20,000 and 200,000 flows, the difference
# divided by 180,000, so the load cancels out.  Nothing is asserted.
set -eu
cli=$1
data=$2
tags=${3:-fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json}
big=$data/flows-hub-1m.txt
small=$data/flows-hub-20k.txt
empty=$data/flows-empty.txt
[ -f "$big" ] || for i in 1 2 3 4 5; do cat "$data/flows-hub.txt"; done >"$big"
[ -f "$small" ] || head -n 20000 "$data/flows-hub.txt" >"$small"
: >"$empty"
flows=$(grep -c . "$big")

now() { date +%s%N; }
# best of 5 wall-clock nanoseconds of: nsgsim eval ... --flows FILE [ARGS]
best() {
	file=$1
	shift
	b=
	for _ in 1 2 3 4 5; do
		t0=$(now)
		"$cli" eval --env "$data/hub" --service-tags "$tags" --flows "$file" "$@" >/dev/null || :
		t=$(($(now) - t0))
		if [ -z "$b" ] || [ "$t" -lt "$b" ]; then b=$t; fi
	done
	echo "$b"
}
load=$(best "$empty")
one=$(best "$big" --jobs 1)
two=$(best "$big" --jobs 2)
rate() { awk -v n="$flows" -v t="$1" -v l="$load" 'BEGIN { printf "%.2f", n / ((t - l) / 1e9) / 1e6 }'; }
echo "flows: load and compile alone (empty file): $((load / 1000000)) ms"
echo "flows: eval --flows, $flows flows to /dev/null, --jobs 1: $((one / 1000000)) ms, $(rate "$one") M flows/s beyond the load"
echo "flows: eval --flows, $flows flows to /dev/null, --jobs 2: $((two / 1000000)) ms, $(rate "$two") M flows/s beyond the load ($(awk -v a="$one" -v b="$two" -v l="$load" 'BEGIN { printf "%.2f", (a - l) / (b - l) }')x --jobs 1)"

if ! command -v valgrind >/dev/null 2>&1; then
	echo "flows: callgrind: valgrind not installed; skipped"
	exit 0
fi
collected() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$cli" eval --env "$data/hub" \
		--service-tags "$tags" --flows "$1" 2>&1 >/dev/null |
		sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
a=$(collected "$small")
b=$(collected "$data/flows-hub.txt")
echo "flows: callgrind: $(((b - a) / 180000)) instructions per flow (parse, nsgsim_eval_batch, row)"
