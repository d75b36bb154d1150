#!/bin/sh
# Instructions per flow under `valgrind --tool=callgrind`, for `make bench`.
#
#   sh bench/callgrind.sh NSGSIM_BENCH DATA
#
# Runs the benchmark's --callgrind mode twice per workload, with N1 and N2
# flows, and divides the difference in instructions by N2 - N1: the setup
# (loading, compiling, reading the trace) cancels out.  Instruction counts
# do not depend on the machine's noise, so they are the number to compare
# between changes.
set -eu
bench=$1
data=$2
n1=2000
# Far apart: the hub's setup (about 2.5 G instructions) is not exactly the
# same from run to run (why was not pinned down), which over 20,000 flows
# showed as 946 per flow under make and 1,064 by hand for one binary.
n2=100000
if ! command -v valgrind >/dev/null 2>&1; then
	echo "callgrind: valgrind not installed; skipped"
	exit 0
fi
collected() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" "$data" \
		--callgrind "$1" "$2" 2>&1 | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p'
}
for w in chain1000 chain1000-batch chain4000 chain4000-batch hub; do
	a=$(collected "$w" "$n1")
	b=$(collected "$w" "$n2")
	if [ -z "$a" ] || [ -z "$b" ]; then
		echo "callgrind: $w failed"
		continue
	fi
	case $w in
	hub) what="end to end (nsgsim_eval_batch)" ;;
	*-batch) what="one chain, batched (ns_cls_first_batch)" ;;
	*) what="one chain, single flow (policy-wide classes + ns_cls_first)" ;;
	esac
	echo "callgrind: $w: $(( (b - a) / (n2 - n1) )) instructions per flow, $what"
done
