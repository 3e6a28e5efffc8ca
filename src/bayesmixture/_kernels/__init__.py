"""Compiled log-densities of the built-in estimators' models, in Numba (the fast path).

Each kernel is a pure function of (unconstrained parameters, one float64 payload of sizes,
constants and data) with the C signature nutpie calls; it depends on nothing else in the
package, so that a second process can compile it while a fit prepares (``compiling.py``).
The packers that fill the payloads, and the tests that hold every kernel equal to its PyMC
model, live with the estimators (``estimators/_fast/``, ``tests/test_fast_density*.py``).
"""
