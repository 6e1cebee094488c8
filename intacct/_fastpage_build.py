"""Compile intacct/_fastpage.pyx in place (``python -m intacct._fastpage_build``; the Makefile runs it).

Needs Cython (requirements-dev.txt) and a C compiler with the Python headers. Without them the
app still runs, reading pages the general way (slower); this then says so and exits 0, unless
``--require`` is given. `python -m intacct._fastpage_build --check` tells which reader is in use.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SOURCE = PACKAGE / "_fastpage.pyx"


def build() -> None:
    """Cythonize and compile the extension next to its source; raise on any failure."""
    import lxml
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    quiet = [] if sys.platform == "win32" else ["-Wno-unused-function"]  # lxml's header defines a helper we skip
    extension = Extension("intacct._fastpage", [str(SOURCE)], include_dirs=lxml.get_include(), extra_compile_args=quiet)
    with tempfile.TemporaryDirectory() as work:
        modules = cythonize([extension], build_dir=work, quiet=True, compiler_directives={"language_level": 3})
        distribution = Distribution({"name": "intacct-fastpage", "ext_modules": modules})
        command = distribution.get_command_obj("build_ext")
        command.build_lib = work
        command.build_temp = work
        command.ensure_finalized()
        command.run()
        [built] = command.get_outputs()
        target = PACKAGE / Path(built).name
        shutil.copyfile(built, target.with_suffix(".tmp"))
        os.replace(target.with_suffix(".tmp"), target)  # a running process keeps the old file


def main() -> int:
    """Build, or report (see the module docstring)."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--require", action="store_true", help="fail when the extension cannot be built")
    options.add_argument("--check", action="store_true", help="only say whether the compiled reader loads")
    args = options.parse_args()
    if not args.check:
        try:
            build()
        except Exception as exc:  # noqa: BLE001 - no compiler, no Cython, no headers: all mean the same
            print(f"intacct/_fastpage.pyx not compiled ({type(exc).__name__}: {exc}); pages are read the general "
                  "way (slower). Install a C compiler and Cython, then run make again.", file=sys.stderr)  # fmt: skip
            return 1 if args.require else 0
    from intacct import records

    print(f"intacct page reader: {records.PAGE_READER}")
    return 0 if records.PAGE_READER == "compiled" or not (args.require or args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
