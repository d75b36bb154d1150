"""Builds libnsgsim with the repository's Makefile and ships it in the package.

`pip install ./bindings/python` then installs a package that works on its
own: nsgsim/libnsgsim.so.0 sits beside _lib.py, which loads it first (after
NSGSIM_LIBRARY).  pip (>= 21.3) builds a local directory in place, so this
file is bindings/python/setup.py of a checkout and the repository root is two
levels up; NSGSIM_SOURCE_DIR names the root when the package is built from a
copy (an sdist, an older pip's temporary directory).  The library only needs
libcjson, libcidr and zlib at run time (Debian: libcjson1, libcidr0, zlib1g).

Everything else is pyproject.toml.
"""

import os
import shutil
import subprocess

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.errors import SetupError
except ImportError:  # setuptools < 59
    from distutils.errors import DistutilsSetupError as SetupError

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARY = "libnsgsim.so.0"


def source_root():
    given = os.environ.get("NSGSIM_SOURCE_DIR")
    root = os.path.abspath(given or os.path.join(HERE, os.pardir, os.pardir))
    if not (os.path.isfile(os.path.join(root, "Makefile"))
            and os.path.isfile(os.path.join(root, "include", "nsgsim.h"))):
        raise SetupError(
            "nsgsim: %s is not the nsgsim source tree (no Makefile and include/nsgsim.h), "
            "so libnsgsim cannot be built; install from a checkout (pip install "
            "./bindings/python) or set NSGSIM_SOURCE_DIR to the repository root%s"
            % (root, "" if given else " (this package was built from %s)" % HERE))
    return root


class BuildPyWithLibrary(build_py):
    """build_py, then `make` in the repository root, then the library into the
    package (not into the source tree: there the repository's build/ is found)."""

    def run(self):
        super().run()
        root = source_root()
        make = os.environ.get("MAKE", "make")
        # The make that runs pip may have set MAKEFLAGS for its jobserver,
        # whose descriptors do not reach us.
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
        self.announce("running %s -C %s" % (make, root), level=2)
        jobs = "-j%d" % (os.cpu_count() or 1)
        subprocess.run([make, "-C", root, jobs], check=True, env=env)
        built = os.path.join(root, "build", LIBRARY)
        if not os.path.isfile(built):
            raise SetupError("nsgsim: `make` ran but %s does not exist" % built)
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout: build/ is found there
        dest = os.path.join(self.build_lib, "nsgsim", LIBRARY)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(built, dest)  # the file itself, not the symlink
        os.chmod(dest, 0o755)
        self._library = dest

    def get_outputs(self, include_bytecode=1):
        out = super().get_outputs(include_bytecode)
        lib = getattr(self, "_library", None)
        return out + [lib] if lib else out


class PlatformDistribution(Distribution):
    """A package with a shared library in it: platform-specific (platlib, a
    platform wheel), though it has no extension module."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": BuildPyWithLibrary}

# No extension module, so no Python ABI: one wheel fits any Python 3 on this
# platform (py3-none-linux_x86_64), not one CPython version.
try:
    from setuptools.command.bdist_wheel import bdist_wheel  # setuptools >= 70.1
except ImportError:
    try:
        from wheel.bdist_wheel import bdist_wheel
    except ImportError:  # no wheel support: pip will say so
        bdist_wheel = None

if bdist_wheel is not None:

    class BdistWheelAnyPython(bdist_wheel):
        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = BdistWheelAnyPython

setup(cmdclass=cmdclass, distclass=PlatformDistribution)
