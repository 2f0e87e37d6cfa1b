"""Build script: everything is in setup.cfg, except the optional compiled build.

``COMPILE_WSGIFIX=1 pip install .`` compiles the modules on the request path
with mypyc (part of mypy) into C extensions: the same source, type-checked,
about 1.3-2x faster per request (README.rst, "Performance"). It needs a C
compiler and the Python headers; without the variable the build is pure
Python and runs anywhere.
"""

from __future__ import annotations

import os

from setuptools import setup

# The modules a request runs through; the rest run at start-up or on demand.
COMPILED = [
    "wsgifix/cookies.py",
    "wsgifix/forwarded.py",
    "wsgifix/memo.py",
    "wsgifix/prefix.py",
    "wsgifix/proxy.py",
    "wsgifix/races.py",
    "wsgifix/rules.py",
    "wsgifix/setcookie.py",
    "wsgifix/trust.py",
]

if os.environ.get("COMPILE_WSGIFIX", "") not in ("", "0"):
    try:
        from mypyc.build import mypycify
    except ImportError:
        # Under build isolation, setuptools first asks for the build's
        # requirements: setup_requires is how this script names mypy.
        setup(setup_requires=["mypy>=1.10"])
    else:
        setup(
            setup_requires=["mypy>=1.10"],
            ext_modules=mypycify(COMPILED, opt_level="3", group_name="wsgifix._native"),
        )
else:
    setup()
