#!/bin/sh
# The stages of lib/ include only the headers of the stages below them
# (DESIGN.md): base < parse < compile < eval < report.  Only the parse stage
# includes cJSON or libcidr; the CLI and bindings see the public header only.
# A call upward would need a declaration from a header above, and the build
# refuses implicit declarations (-Werror), so the includes are the whole story.
set -eu
cd "$(dirname "$0")/.."
rank() {
	case $1 in
	base) echo 1 ;; parse) echo 2 ;; compile) echo 3 ;; eval) echo 4 ;; report) echo 5 ;;
	*) echo 0 ;;
	esac
}
bad=0
for f in lib/*/*.c lib/*/*.h; do
	stage=$(basename "$(dirname "$f")")
	mine=$(rank "$stage")
	if [ "$mine" = 0 ]; then
		echo "check-layers: $f is in no stage (base, parse, compile, eval, report)"
		bad=1
		continue
	fi
	for inc in $(sed -n 's/^#include "\([a-z_]*\)\/[^"]*".*/\1/p' "$f"); do
		theirs=$(rank "$inc")
		if [ "$theirs" = 0 ] || [ "$theirs" -gt "$mine" ]; then
			echo "check-layers: $f ($stage) includes a header of $inc"
			bad=1
		fi
	done
	if [ "$stage" != parse ] && grep -Eq '#include <(cjson/cJSON|libcidr)\.h>' "$f"; then
		echo "check-layers: $f includes cJSON or libcidr outside the parse stage"
		bad=1
	fi
done
for f in cli/*.c cli/*.h; do
	for inc in $(sed -n 's/^#include "\(.*\)"/\1/p' "$f"); do
		if [ "$inc" != nsgsim.h ] && [ ! -f "cli/$inc" ]; then
			echo "check-layers: $f includes $inc (the CLI sees nsgsim.h and cli/ only)"
			bad=1
		fi
	done
done
[ $bad = 0 ] && echo "check-layers: lib/ includes run downward only (base < parse < compile < eval < report)"
exit $bad
