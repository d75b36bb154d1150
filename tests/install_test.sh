#!/usr/bin/env bash
# make check-install: what make install and pip install give a user (issue 17).
#
#   - make install PREFIX=<fresh dir>: the files, an nsgsim.pc whose prefix is
#     PREFIX, a C program built with pkg-config alone that runs against it,
#     the man page (no warnings) and the bash completion (valid, completes);
#   - make install DESTDIR=<stage> PREFIX=/opt/nsgsim: everything under the
#     stage, the .pc still says /opt/nsgsim, pkg-config builds with its sysroot;
#   - make uninstall leaves no file behind, in both;
#   - pip install ./bindings/python into a venv of Debian's /usr/bin/python3
#     and of the python3 on PATH, offline (never PyPI): the package imports
#     from another directory with the library it ships, and the lookup order.
#
# Prints one line a check and one summary line; exit 1 if any check failed.
# Run from make check-install (it builds first) or: bash tests/install_test.sh
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
START=$(date +%s)
# A make that runs us may have exported its jobserver; our makes are our own.
unset MAKEFLAGS MFLAGS MAKELEVEL NSGSIM_LIBRARY PYTHONPATH
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

T=$(mktemp -d "${TMPDIR:-/tmp}/nsgsim-install.XXXXXX")
trap 'rm -rf "$T"' EXIT
ENV_DIR=$ROOT/fixtures/example/env
TAGS=$ROOT/fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json

passed=0 skipped=0 failed=0
ok() { passed=$((passed + 1)); echo "ok    $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP  $*"; }
fail() { failed=$((failed + 1)); echo "FAIL  $*"; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds, else FAIL with its output.
check() {
	local what=$1
	shift
	if "$@" >"$T/out" 2>&1; then
		ok "$what"
	else
		fail "$what"
		sed -n '1,25s/^/      /p' "$T/out"
	fi
}
# same FILE WANT: the file holds exactly the text WANT.
same() { [ "$(cat "$1")" = "$2" ] || { echo "got:  $(cat "$1")"; echo "want: $2"; false; }; }

# ---- make install PREFIX=... ---------------------------------------------------
P=$T/prefix
check "make install PREFIX=$P" make -s install PREFIX="$P"

# has_files TREE: every file make install adds is there.
has_files() {
	local f missing=
	for f in bin/nsgsim include/nsgsim.h lib/libnsgsim.so.0.1.0 lib/libnsgsim.so.0 lib/libnsgsim.so \
		lib/libnsgsim.a lib/pkgconfig/nsgsim.pc share/man/man1/nsgsim.1 \
		share/bash-completion/completions/nsgsim share/doc/nsgsim/LICENSE \
		share/doc/nsgsim/SEMANTICS.md; do
		[ -e "$1/$f" ] || missing="$missing $f"
	done
	[ -z "$missing" ] || { echo "missing:$missing"; false; }
}
check "the tree has the CLI, library, header, .pc, man page, completion, LICENSE, SEMANTICS.md" has_files "$P"
check "make install installs no Python package (that is pip's: bindings/python)" \
	test ! -e "$P/lib/python3"

grep '^prefix=' "$P/lib/pkgconfig/nsgsim.pc" >"$T/prefix-line" 2>/dev/null
check "nsgsim.pc says prefix=$P" same "$T/prefix-line" "prefix=$P"
check "the installed nsgsim runs" same <("$P/bin/nsgsim" version 2>&1; echo "rc=$?") \
	"$(printf 'nsgsim 0.1.0\nrc=0')"

cat >"$T/prog.c" <<'EOF'
/* Built with pkg-config's flags alone: the installed header and library. */
#include <nsgsim.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	nsgsim_error err = {0};
	nsgsim_flow flow;
	if (argc != 3 || nsgsim_flow_parse("tcp 10.1.1.4:50000 10.2.1.4:22", &flow, &err) != 0)
		return 2;
	if (nsgsim_flow_parse("tcp 10.1.1.4 10.2.1.4", &flow, &err) != NSGSIM_E_BAD_FLOW) {
		puts("a TCP flow without a destination port parsed");
		return 1;
	}
	nsgsim_flow_parse("tcp 10.1.1.4:50000 10.2.1.4:22", &flow, &err);
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_policy *p = NULL;
	if (nsgsim_loader_add_env(l, argv[1], &err) != 0 ||
	    nsgsim_loader_add_service_tags(l, argv[2], &err) != 0 || nsgsim_compile(l, &p, &err) != 0) {
		printf("load: %s\n", err.message);
		return 1;
	}
	nsgsim_loader_free(l);
	nsgsim_result res;
	if (nsgsim_eval(p, &flow, &res, &err) != 0) {
		printf("eval: %s\n", err.message);
		return 1;
	}
	printf("nsgsim %s: tcp %d -> %d %s by %s\n", nsgsim_version(), flow.src_port, flow.dst_port,
	       res.verdict == NSGSIM_DENY ? "deny" : "allow",
	       res.decided_rule.name ? res.decided_rule.name : "-");
	nsgsim_policy_free(p);
	return 0;
}
EOF
WANT_PROG="nsgsim 0.1.0: tcp 50000 -> 22 deny by DenyProdToDev"
CC=${CC:-cc}

# build_and_run PKG_CONFIG_PATH SYSROOT: compile with pkg-config's flags, run
# with LD_LIBRARY_PATH = its libdir (under the sysroot), check the output and
# that the library loaded is the installed one.
build_and_run() {
	local pcp=$1 sysroot=$2 flags libdir
	flags=$(PKG_CONFIG_PATH=$pcp PKG_CONFIG_SYSROOT_DIR=$sysroot pkg-config --cflags --libs nsgsim) || return 1
	libdir=$sysroot$(PKG_CONFIG_PATH=$pcp pkg-config --variable=libdir nsgsim) || return 1
	echo "cc prog.c $flags"
	# shellcheck disable=SC2086 # the flags are words
	$CC -std=c11 -Wall -Werror -o "$T/prog" "$T/prog.c" $flags || return 1
	LD_LIBRARY_PATH=$libdir "$T/prog" "$ENV_DIR" "$TAGS" >"$T/prog.out" || { cat "$T/prog.out"; return 1; }
	same "$T/prog.out" "$WANT_PROG" || return 1
	LD_LIBRARY_PATH=$libdir ldd "$T/prog" | grep -F "libnsgsim.so.0 => $libdir/libnsgsim.so.0" ||
		{ LD_LIBRARY_PATH=$libdir ldd "$T/prog"; false; }
}
if command -v pkg-config >/dev/null && command -v "$CC" >/dev/null; then
	check "a C program built with pkg-config alone runs against $P (nsgsim_version, nsgsim_flow_parse, nsgsim_eval)" \
		build_and_run "$P/lib/pkgconfig" ""
else
	skip "pkg-config build: no pkg-config or $CC (make check-install-deps installs pkg-config)"
fi

# ---- the man page and the completion, as installed ------------------------------
man_clean() {
	local m=$1
	if command -v man >/dev/null; then
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" >"$T/man.txt" 2>"$T/man.err" || return 1
		[ ! -s "$T/man.err" ] || { cat "$T/man.err"; return 1; }
		grep -q "nsgsim eval" "$T/man.txt" || { echo "no 'nsgsim eval' in the rendered page"; return 1; }
	fi
	[ -z "$(groff -man -ww -z "$m" 2>&1)" ] || { groff -man -ww -z "$m"; return 1; }
}
if command -v groff >/dev/null; then
	check "the man page renders without warnings (man --warnings, groff -man -ww)" \
		man_clean "$P/share/man/man1/nsgsim.1"
	if command -v man >/dev/null; then
		check "man finds nsgsim(1) in PREFIX/share/man" \
			same <(MANPATH=$P/share/man man -w nsgsim 2>&1) "$P/share/man/man1/nsgsim.1"
	fi
else
	skip "man page rendering: no groff (make check-install-deps installs groff-base and man-db)"
fi

check "the completion is valid bash (bash -n)" bash -n "$P/share/bash-completion/completions/nsgsim"
# complete WORD...: what the installed completion offers for the last word.
cat >"$T/complete.sh" <<'EOF'
. "$1"
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_nsgsim
echo "${COMPREPLY[*]}"
EOF
complete_with() { bash "$T/complete.sh" "$P/share/bash-completion/completions/nsgsim" "$@"; }
completes() {
	local want=$1
	shift
	same <(cd "$ROOT" && complete_with "$@") "$want"
}
check "completion: 'nsgsim ev' -> eval" completes "eval" nsgsim ev
check "completion: 'nsgsim eval --format ' -> tsv csv json" completes "tsv csv json" nsgsim eval --format ""
check "completion: 'nsgsim effective --format ' -> json table" completes "json table" nsgsim effective --format ""
check "completion: 'nsgsim diff --fail-on ' -> opened closed any" completes "opened closed any" nsgsim diff --fail-on ""
check "completion: 'nsgsim reach --protocol tcp,u' -> tcp,udp" completes "tcp,udp" nsgsim reach --protocol tcp,u
check "completion: 'nsgsim list --env E ' -> the list kinds" completes "nics subnets nsgs asgs managers" nsgsim list --env E ""
check "completion: 'nsgsim check --env fixtures/exa' -> a path" completes "fixtures/example" nsgsim check --env fixtures/exa
check "completion: 'nsgsim diff --before A fixtures/exa' -> a path (PATH... of a command without arguments)" \
	completes "fixtures/example" nsgsim diff --before A fixtures/exa
check "completion: 'nsgsim eval --engine=l' -> linear" completes "linear" nsgsim eval --engine = l

# ---- make install DESTDIR=... PREFIX=/opt/nsgsim --------------------------------
S=$T/stage
opt_before=$(find /opt/nsgsim 2>/dev/null | sort)
check "make install DESTDIR=$S PREFIX=/opt/nsgsim" make -s install DESTDIR="$S" PREFIX=/opt/nsgsim
check "everything lands under DESTDIR, nothing in /opt/nsgsim" \
	sh -c "$(declare -f has_files); has_files \"\$1\" && test \"\$2\" = \"\$(find /opt/nsgsim 2>/dev/null | sort)\"" \
	- "$S/opt/nsgsim" "$opt_before"
grep '^prefix=' "$S/opt/nsgsim/lib/pkgconfig/nsgsim.pc" >"$T/prefix-line" 2>/dev/null
check "the staged nsgsim.pc says prefix=/opt/nsgsim (PREFIX, not DESTDIR+PREFIX)" same "$T/prefix-line" "prefix=/opt/nsgsim"
if command -v pkg-config >/dev/null && command -v "$CC" >/dev/null; then
	check "a C program built with pkg-config (PKG_CONFIG_SYSROOT_DIR=DESTDIR) runs against the stage" \
		build_and_run "$S/opt/nsgsim/lib/pkgconfig" "$S"
fi

# ---- make uninstall ---------------------------------------------------------------
check "make uninstall PREFIX=$P leaves no file" \
	sh -c 'make -s uninstall PREFIX="$1" && test -z "$(find "$1" ! -type d | tee /dev/stderr)"' - "$P"
check "make uninstall DESTDIR=$S PREFIX=/opt/nsgsim leaves no file" \
	sh -c 'make -s uninstall DESTDIR="$1" PREFIX=/opt/nsgsim && test -z "$(find "$1" ! -type d | tee /dev/stderr)"' - "$S"
# The install runs rebuilt build/nsgsim.pc for their PREFIX: back to the default.
make -s all >/dev/null 2>&1

# ---- pip install ./bindings/python ----------------------------------------------
cat >"$T/use.py" <<'EOF'
# From /tmp, no PYTHONPATH, no NSGSIM_LIBRARY: the package as pip installed it.
import os, sys
import nsgsim

env, tags = sys.argv[1], sys.argv[2]
pkg = os.path.dirname(os.path.abspath(nsgsim.__file__))
assert "site-packages" in pkg, "imported %s, not the installed package" % pkg
assert os.path.samefile(os.path.dirname(nsgsim.library_path), pkg), \
    "loaded %s, not the library shipped in %s" % (nsgsim.library_path, pkg)
with nsgsim.load(env=[env], service_tags=tags) as policy:
    r = policy.evaluate("tcp 10.1.1.4:50000 10.2.1.4:22")
    assert (r.verdict, r.decided_by.rule) == ("Deny", "DenyProdToDev"), r.explain()
    r = policy.evaluate("tcp 10.1.1.4:50000 10.1.2.4:1433")
    assert (r.verdict, r.decided_by.rule) == ("Allow", "Allow-Web-To-Sql"), r.explain()
print("ok", nsgsim.library_path)
EOF
# use VENV: import and evaluate from /tmp with a clean environment.
use() { (cd /tmp && env -u NSGSIM_LIBRARY -u PYTHONPATH -u LD_LIBRARY_PATH "$1/bin/python" "$T/use.py" "$ENV_DIR" "$TAGS"); }
# can_build VENV: why the venv cannot build the package offline, or nothing.
cat >"$T/can_build.py" <<'EOF'
import sys
try:
    import setuptools
except ImportError:
    sys.exit("no setuptools")
v = tuple(int(x) for x in setuptools.__version__.split(".")[:2] if x.isdigit())
if v < (61,):
    sys.exit("setuptools %s (pyproject.toml needs >= 61)" % setuptools.__version__)
if v < (70, 1):
    try:
        import wheel  # noqa: F401
    except ImportError:
        sys.exit("setuptools %s without the wheel module (setuptools < 70.1 needs it to build a wheel)"
                 % setuptools.__version__)
EOF
pip_install() { "$1/bin/python" -m pip install -q --no-build-isolation --no-index "$ROOT/bindings/python"; }

DEB=/usr/bin/python3
VDEB=$T/venv-debian
deb_ok=
if [ ! -x $DEB ]; then
	skip "pip install with Debian's python3: no $DEB"
elif ! $DEB -m venv --system-site-packages "$VDEB" >"$T/out" 2>&1; then
	skip "pip install with Debian's python3: python3 -m venv fails (python3-venv missing; make check-install-deps installs it): $(tail -1 "$T/out")"
elif why=$("$VDEB/bin/python" "$T/can_build.py" 2>&1); [ -n "$why" ]; then
	skip "pip install with Debian's python3: $why (install python3-setuptools python3-wheel)"
else
	check "Debian's python3: venv --system-site-packages, pip install --no-build-isolation --no-index ./bindings/python" \
		pip_install "$VDEB"
	check "Debian's python3: from /tmp, import nsgsim loads the library shipped in the package and evaluates flows" use "$VDEB"
	deb_ok=1
	SITE=$("$VDEB/bin/python" -c 'import os, nsgsim; print(os.path.dirname(nsgsim.__file__))' 2>/dev/null)
	# The lookup order: NSGSIM_LIBRARY first, and alone.
	check "lookup: NSGSIM_LIBRARY comes before the shipped library" \
		same <(cd /tmp && NSGSIM_LIBRARY=$ROOT/build/libnsgsim.so.0 "$VDEB/bin/python" -c \
			'import os, nsgsim; print(os.path.realpath(nsgsim.library_path))') "$(realpath "$ROOT/build/libnsgsim.so.0")"
	check "lookup: NSGSIM_LIBRARY is tried alone (a wrong one is an ImportError, not a fallback)" \
		same <(cd /tmp && NSGSIM_LIBRARY=$T/none/libnsgsim.so.0 "$VDEB/bin/python" -c 'import nsgsim' 2>&1 |
			grep -c "NSGSIM_LIBRARY: $T/none/libnsgsim.so.0 does not exist") 1
	check "lookup: from the source tree (PYTHONPATH=bindings/python) the repository build directory" \
		same <(cd /tmp && PYTHONPATH=$ROOT/bindings/python "$VDEB/bin/python" -c \
			'import os, nsgsim; print(os.path.realpath(nsgsim.library_path))') "$(realpath "$ROOT/build/libnsgsim.so.0")"
	# Without the shipped library: find_library, which sees LD_LIBRARY_PATH
	# (through ld) -- here a make install tree, set up again for this.
	make -s install PREFIX="$P" >/dev/null 2>&1
	rm -f "$SITE/libnsgsim.so.0"
	check "lookup: without a shipped library, ctypes.util.find_library('nsgsim') (a make install tree)" \
		same <(cd /tmp && LD_LIBRARY_PATH=$P/lib "$VDEB/bin/python" -c \
			'import os, nsgsim; print(os.path.realpath(nsgsim.library_path))') "$P/lib/libnsgsim.so.0.1.0"
	make -s uninstall PREFIX="$P" >/dev/null 2>&1
	cat >"$T/none.py" <<'EOF'
try:
    import nsgsim
    print("loaded", nsgsim.library_path)  # a system libnsgsim: find_library found one
except ImportError as e:
    msg = str(e)
    for step in ("the library shipped in the package:",
                 "the repository build directory: not running from a source tree",
                 "ctypes.util.find_library('nsgsim'): not found"):
        assert step in msg, (step, msg)
    assert "build/libnsgsim" not in msg and "lib/build" not in msg, msg
    print("ImportError lists the three steps")
EOF
	check "lookup: with no library anywhere, the ImportError lists what was tried (and no PREFIX/lib/build)" \
		sh -c 'cd /tmp && out=$(env -u LD_LIBRARY_PATH "$1/bin/python" "$2") && echo "$out" &&
			case $out in *"/build/"*) false ;; esac' - "$VDEB" "$T/none.py"
	check "pip uninstall -y nsgsim removes the package" \
		sh -c '"$1/bin/python" -m pip uninstall -q -y nsgsim && test ! -e "$2"' - "$VDEB" "$SITE"
fi

# The python3 on PATH (here a pyenv shim), when it is another interpreter.
if ! command -v python3 >/dev/null; then
	skip "pip install with the python3 on PATH: there is none"
elif ! PY=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))' 2>/dev/null); then
	skip "pip install with the python3 on PATH: $(command -v python3) does not run"
elif [ "$PY" = "$(realpath $DEB 2>/dev/null)" ]; then
	skip "pip install with the python3 on PATH: it is Debian's $DEB, checked above"
else
	PYV=$(python3 -c 'import platform; print(platform.python_version())')
	VP=$T/venv-path
	if ! python3 -m venv --system-site-packages "$VP" >"$T/out" 2>&1; then
		skip "pip install with python3 on PATH ($PY, Python $PYV): python3 -m venv fails: $(tail -1 "$T/out")"
	elif why=$("$VP/bin/python" "$T/can_build.py" 2>&1); [ -n "$why" ]; then
		skip "pip install ./bindings/python with python3 on PATH ($PY, Python $PYV): its venv has $why, and this test never fetches from PyPI; the README's route for it (a wheel built by Debian's python3) is checked next"
	else
		check "python3 on PATH ($PY): venv, pip install --no-build-isolation --no-index ./bindings/python" pip_install "$VP"
		check "python3 on PATH: from /tmp, import nsgsim loads the shipped library and evaluates flows" use "$VP"
		"$VP/bin/python" -m pip uninstall -q -y nsgsim >/dev/null 2>&1
	fi
	# The README's command for an interpreter that cannot build the package:
	# Debian's python3 builds the wheel (py3-none-<platform>), this one installs it.
	if [ -x "$VP/bin/python" ] && [ -n "$deb_ok" ]; then
		build_wheel() {
			$DEB -m pip wheel -q --no-build-isolation --no-index --no-deps -w "$T/dist" "$ROOT/bindings/python" &&
				ls "$T"/dist/nsgsim-0.1.0-py3-none-linux_*.whl
		}
		check "wheel: $DEB -m pip wheel --no-build-isolation --no-index --no-deps ./bindings/python gives a py3-none wheel" build_wheel
		check "wheel: python3 on PATH ($PY) pip installs it with --no-index" \
			sh -c '"$1/bin/python" -m pip install -q --no-index "$2"/dist/nsgsim-0.1.0-py3-none-linux_*.whl' - "$VP" "$T"
		check "wheel: python3 on PATH: from /tmp, import nsgsim loads the shipped library and evaluates flows" use "$VP"
	elif [ -x "$VP/bin/python" ]; then
		skip "the wheel route for python3 on PATH: Debian's python3 could not build the wheel (above)"
	fi
fi

echo "check-install: $passed passed, $skipped skipped, $failed failed ($(($(date +%s) - START)) s)"
[ "$failed" -eq 0 ]
