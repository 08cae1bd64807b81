"""The build backend: setuptools', except that building btflearn (editable or not) first compiles its
RRR kernels into kernels/compiled/, so a user's first run loads them instead of waiting about ten
seconds for Numba (btflearn.kernels.cache). A failed compile never fails the install: the first run
then compiles, as it would have anyway."""
from __future__ import annotations

import importlib.util
import os
import sys

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403  every other hook is setuptools' own

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _compile_kernels() -> None:
    if os.environ.get("BTFLEARN_NO_PRECOMPILE"):
        return
    try:
        if "btflearn.kernels" not in sys.modules:  # the source tree: kernels/ is btflearn.kernels
            folder = os.path.join(ROOT, "kernels")
            spec = importlib.util.spec_from_file_location(
                "btflearn.kernels", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
            module = importlib.util.module_from_spec(spec)
            sys.modules["btflearn.kernels"] = module
            spec.loader.exec_module(module)
        from btflearn.precompile import precompile
        precompile(log=lambda line: print(line, file=sys.stderr))
    except Exception as error:  # noqa: BLE001  the install goes on; the first run compiles
        print(f"btflearn: the kernels were not compiled at install ({type(error).__name__}: {error}); "
              "the first run compiles them", file=sys.stderr)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _compile_kernels()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _compile_kernels()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
