"""Build script: everything is in setup.cfg, except the optional compiled build.

``COMPILE_WSGIFIX=1 pip install .`` compiles the modules on the request path
with mypyc (part of mypy) into C extensions: the same source, type-checked,
about 1.3-2x faster per request (README.rst, "Performance"). It needs a C
compiler and the Python headers; without the variable the build is pure
Python and runs anywhere.

With GCC the compiled build is profile-guided: compiled with counters,
trained on ``python -m wsgifix._training`` (a few seconds of the requests
the benchmarks make), compiled again with the profile (~5-10% less time
per request). ``COMPILE_WSGIFIX=noprofile`` compiles once, without it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent

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


def _gcc() -> bool:
    """Whether the C compiler is GCC (the profile flags below are its own)."""
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    try:
        found = subprocess.run(
            [cc[0], "--version"],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, IndexError, subprocess.SubprocessError):
        return False
    return "Free Software Foundation" in found.stdout


# The training counts the same on every run, so that one source builds one
# module: string hashes from a fixed seed (PYTHONHASHSEED, see _train), a clock
# that moves a microsecond per reading (the race table sweeps by age: the
# counts would follow the machine's speed), the race detector's salt from
# fixed bytes, and no address randomization (_fixed_addresses: hash(None)
# and object() hashes are addresses in Python 3.11). Without these, the
# memo keys' hashes decided some branches at random per build.
_TRAINING = """
import itertools, os, runpy, time
ticks = itertools.count(1)
time.monotonic = lambda: next(ticks) / 1e6
os.urandom = lambda size: bytes(range(1, size + 1))
runpy.run_module("wsgifix._training", run_name="__main__", alter_sys=True)
"""


def _fixed_addresses() -> None:
    """In the training's process before it starts (Linux): no address
    space randomization, where the kernel allows it."""
    try:
        import ctypes

        ctypes.CDLL(None).personality(0x0040000)  # ADDR_NO_RANDOMIZE
    except (OSError, AttributeError):
        pass


class ProfiledBuildExt(build_ext):
    """Compile with profiling counters, run the training workload against
    that build, compile again with the profile it wrote. A training that
    fails leaves a build compiled once, without a profile (and says so).
    With GCC, calls inside the shared object are direct either way."""

    def run(self) -> None:
        gcc = _gcc()
        # The modules' functions call each other inside one shared object:
        # directly (no interposition to allow for, so they can be inlined)
        # and Python's through the GOT without a PLT stub (~6% less time
        # per request, measured with and without, warm and cold; ELF
        # shared objects, so GCC on Linux only).
        elf = gcc and sys.platform.startswith("linux")
        direct = ["-fno-semantic-interposition", "-fno-plt"] if elf else []
        plain = {
            id(ext): (ext.extra_compile_args, ext.extra_link_args)
            for ext in self.extensions
        }

        def flags(compiling: list[str], linking: list[str]) -> None:
            for ext in self.extensions:
                given_compile, given_link = plain[id(ext)]
                ext.extra_compile_args = [*given_compile, *direct, *compiling]
                ext.extra_link_args = [*given_link, *linking]

        if os.environ.get("COMPILE_WSGIFIX") == "noprofile" or not gcc:
            flags([], [])
            super().run()
            why = "COMPILE_WSGIFIX=noprofile" if gcc else "the compiler is not GCC"
            print(f"wsgifix: compiled without a profile ({why})")
            return
        compiler = self.compiler  # (run() replaces the name with an object)
        with tempfile.TemporaryDirectory(prefix="wsgifix-profile-") as tmp:
            profile = os.path.join(tmp, "profile")
            flags([f"-fprofile-generate={profile}"], [f"-fprofile-generate={profile}"])
            self.force = True
            super().run()
            failure = self._train(os.path.join(tmp, "train"))
            if failure is None:
                flags(
                    [
                        f"-fprofile-use={profile}",
                        "-fprofile-correction",
                        "-Wno-missing-profile",
                    ],
                    [],
                )
            else:
                flags([], [])
            self.compiler = compiler
            super().run()
        if failure is None:
            print("wsgifix: profile-guided build (trained on wsgifix._training)")
        else:
            print(f"wsgifix: WARNING: compiled without a profile: {failure}")

    def _train(self, where: str) -> str | None:
        """Run the training against the instrumented build (copied beside the
        package's source); what went wrong, or None."""
        for ext in self.extensions:
            built = Path(self.get_ext_fullpath(ext.name))
            package = Path(where, *ext.name.split(".")[:-1])
            package.mkdir(parents=True, exist_ok=True)
            shutil.copy(built, package / built.name)
        for source in (HERE / "wsgifix").glob("*.py"):
            shutil.copy(source, Path(where, "wsgifix", source.name))
        path = os.pathsep.join(p for p in (where, os.environ.get("PYTHONPATH")) if p)
        try:
            ran = subprocess.run(
                [sys.executable, "-c", _TRAINING],
                cwd=where,
                env={**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": "0"},
                preexec_fn=_fixed_addresses if os.name == "posix" else None,
                capture_output=True,
                text=True,
                check=False,
                stdin=subprocess.DEVNULL,
                timeout=600,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"the training did not run ({exc})"
        if ran.returncode != 0 or "compiled" not in ran.stdout:
            last = (ran.stderr.strip() or ran.stdout.strip()).splitlines()[-1:]
            return f"the training failed ({ran.returncode}: {' '.join(last)})"
        return None


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
            ext_modules=[
                *mypycify(COMPILED, opt_level="3", group_name="wsgifix._native"),
                # One loop in C (see the file): 1-4 KB cookie values.
                Extension("wsgifix._plain", ["wsgifix/_plain.c"]),
            ],
            cmdclass={"build_ext": ProfiledBuildExt},
        )
else:
    setup()
