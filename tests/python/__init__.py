"""Tests of the Python bindings (bindings/python/nsgsim).  Run from the
repository root:

    NSGSIM_LIBRARY=build/libnsgsim.so.0 PYTHONPATH=bindings/python \
        python3 -m unittest discover -s tests/python -t . -v
"""
