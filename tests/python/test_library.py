"""Which library the bindings loaded, and that it is the one we mean."""

import os
import subprocess
import sys
import unittest

import nsgsim
from nsgsim import _lib


class TestLibrary(unittest.TestCase):
    def test_loaded_the_library_we_built(self):
        wanted = os.environ.get("NSGSIM_LIBRARY")
        loaded = nsgsim.library_path
        self.assertTrue(os.path.isfile(loaded), "library_path %r is not a file" % loaded)
        if wanted:
            self.assertTrue(
                os.path.samefile(loaded, wanted),
                "loaded %s, but NSGSIM_LIBRARY is %s (%s)"
                % (loaded, wanted, os.path.realpath(wanted)),
            )
        else:
            # No explicit choice: it must then be the repository's own build.
            self.assertTrue(
                os.path.exists(_lib.REPO_BUILD_LIBRARY)
                and os.path.samefile(loaded, _lib.REPO_BUILD_LIBRARY),
                "NSGSIM_LIBRARY is not set and %s is not the repository's %s; run "
                "`make check-python` or set NSGSIM_LIBRARY" % (loaded, _lib.REPO_BUILD_LIBRARY),
            )

    def test_library_path_is_what_the_process_mapped(self):
        # library_path comes from /proc/self/maps: the file really in memory.
        self.assertEqual(_lib._mapped_file(_lib._cdll), nsgsim.library_path)

    def test_version_matches_the_library(self):
        self.assertEqual(nsgsim.__version__, "0.1.0")
        self.assertEqual(nsgsim.__version__, _lib.text(_lib.lib.nsgsim_version()))
        self.assertEqual(nsgsim.library_version, nsgsim.__version__)

    def test_every_function_is_declared(self):
        for name, (restype, argtypes, _check) in _lib._FUNCTIONS.items():
            fn = getattr(_lib.lib, name)
            self.assertEqual(fn.argtypes, argtypes, name)
            self.assertIs(fn.restype, restype, name)
        self.assertFalse(hasattr(_lib.lib, "nsgsim_ns_internal"))

    def test_error_codes_come_from_the_library(self):
        self.assertEqual(nsgsim.NSGSIM_E_BAD_FLOW, -24)
        self.assertEqual(nsgsim.ERROR_CODES["NSGSIM_E_PRIORITY_RANGE"], -8)
        self.assertEqual(len(nsgsim.ERROR_CODES), 33)  # through NSGSIM_E_OUT_OF_FOCUS

    def test_import_error_names_what_was_tried(self):
        env = dict(os.environ, NSGSIM_LIBRARY="/nonexistent/libnsgsim.so.0")
        p = subprocess.run([sys.executable, "-c", "import nsgsim"], env=env,
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError", p.stderr)
        self.assertIn("NSGSIM_LIBRARY: /nonexistent/libnsgsim.so.0 does not exist", p.stderr)


if __name__ == "__main__":
    unittest.main()
