#!/usr/bin/env bash
# A new user's first hour, on a fresh clone of this checkout's HEAD (issue 17):
#   1. make, make install to a fresh prefix;
#   2. a 10-line C program built with pkg-config alone against the installed tree;
#   3. pip install ./bindings/python into a venv, then import from another directory;
#   4. every command's --help from the installed nsgsim, and man nsgsim;
#   5. options a command does not take are refused in one line;
#   6. eval --flows lines up with its input.
# Run by .ci/run (it builds a second tree, so make test leaves it out).
# Prints one line per step and a summary; exits non-zero when a step fails.
set -u
START=$(date +%s)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/nsgsim-first-hour.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0
step() { # step NAME COMMAND...: runs it, prints ok or FAIL with its output
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		passed=$((passed + 1))
		echo "ok    $name"
	else
		failed=$((failed + 1))
		echo "FAIL  $name"
		printf '%s\n' "$out" | sed 's/^/      /' | tail -20
	fi
}

CLONE=$WORK/nsgsim PREFIX=$WORK/prefix
fresh_clone() { git clone -q "$ROOT" "$CLONE" && [ -f "$CLONE/Makefile" ]; }
build_install() { make -C "$CLONE" -j2 -s >/dev/null && make -C "$CLONE" -s install PREFIX="$PREFIX" >/dev/null; }
step "a fresh clone of HEAD" fresh_clone
step "make && make install PREFIX=<fresh directory>" build_install

NSGSIM=$PREFIX/bin/nsgsim
EX=$CLONE/fixtures/example
ENV=(--env "$EX/env" --service-tags "$CLONE/fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json" -q)

pkg_config_program() {
	cat >"$WORK/hello.c" <<'EOF'
#include <nsgsim.h>
#include <stdio.h>
int main(void)
{
	nsgsim_flow f;
	nsgsim_error err;
	if (nsgsim_flow_parse("tcp 10.0.0.4:5 10.0.1.5:443", &f, &err) != 0)
		return 1;
	printf("nsgsim %s parses %d\n", nsgsim_version(), f.dst_port);
	return 0;
}
EOF
	local flags
	flags=$(PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig pkg-config --cflags --libs nsgsim) &&
		cc -o "$WORK/hello" "$WORK/hello.c" $flags \
			-Wl,-rpath,"$(PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig pkg-config --variable=libdir nsgsim)" &&
		"$WORK/hello" | grep -q "parses 443"
}
step "a C program with pkg-config alone, against the installed tree" pkg_config_program

python_package() {
	/usr/bin/python3 -m venv --system-site-packages "$WORK/venv" &&
		"$WORK/venv/bin/pip" install -q --no-build-isolation --no-index "$CLONE/bindings/python" &&
		(cd /tmp && "$WORK/venv/bin/python" -c '
import sys, nsgsim
p = nsgsim.load(env=[sys.argv[1] + "/env"], service_tags=sys.argv[2])
r = p.evaluate("tcp 10.1.1.4:50000 10.2.1.4:22")
assert r.decided_by.rule == "DenyProdToDev", r.decided_by
assert "site-packages" in nsgsim.library_path, nsgsim.library_path
' "$EX" "$CLONE/fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json")
}
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import venv, setuptools' 2>/dev/null; then
	step "pip install ./bindings/python in a venv, import from /tmp" python_package
else
	echo "SKIP  pip install: Debian's python3 with venv and setuptools is missing (make check-install-deps)"
fi

every_help() {
	local cmd
	for cmd in eval effective reach diff check list snapshot-tags version; do
		"$NSGSIM" "$cmd" --help | head -1 | grep -q "^usage: nsgsim $cmd" || { echo "$cmd"; return 1; }
	done
	MANPATH=$PREFIX/share/man man -w nsgsim >/dev/null
}
step "every command's --help, and man nsgsim, from the installed tree" every_help

refused() { # refused CMD ARGS...: exit 2, one line and the Try line
	local err
	err=$("$NSGSIM" "$@" 2>&1 >/dev/null)
	[ $? -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 2 ] &&
		printf '%s\n' "$err" | tail -1 | grep -q "^Try 'nsgsim $1 --help'.$" || { echo "$err"; return 1; }
}
refused_options() {
	refused eval "${ENV[@]}" --format json tcp 1.2.3.4 10.1.1.4:443 &&
		refused eval "${ENV[@]}" --flows - --format bogus &&
		refused effective "${ENV[@]}" --verbose vm-web1-nic &&
		refused effective "${ENV[@]}" --junit x.xml vm-web1-nic &&
		refused eval "${ENV[@]}" --service-tags again.json tcp 1.2.3.4 10.1.1.4:443
}
step "options a command does not take are refused, in one line" refused_options

flows_line_up() {
	local out
	out=$(printf '# a comment\ntcp 10.1.1.4:50000 10.2.1.4:22\n\ntcp 93.184.216.34 10.1.1.4:443\nnot a flow\n' |
		"$NSGSIM" eval "${ENV[@]}" --flows -)
	[ $? -eq 2 ] || return 1
	printf '%s\n' "$out" | awk -F'\t' '
		NR == 1 && !($1 == 2 && $2 == "tcp 10.1.1.4:50000 10.2.1.4:22" && $3 == "Deny") { exit 1 }
		NR == 2 && !($1 == 4 && $2 == "tcp 93.184.216.34 10.1.1.4:443" && $3 == "Allow") { exit 1 }
		NR == 3 && !($1 == 5 && $3 == "error") { exit 1 }
		END { exit NR == 3 ? 0 : 1 }' || { echo "$out"; return 1; }
}
step "eval --flows: numbered with the input line, the flow repeated" flows_line_up

echo "first hour: $passed passed, $failed failed ($(($(date +%s) - START)) s)"
[ "$failed" -eq 0 ]
