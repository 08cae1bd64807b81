"""btflearn: learn Boolean circuits from examples with Boolean threshold functions (BTF) trained by
projections (divide-and-concur iterated with RRR)."""
import importlib

__version__ = "0.1.0"

# Public names and the module that defines each. Imported on first use, so that `import btflearn`
# (and the CLI's start-up) pulls in neither NumPy nor Numba until they are needed.
_EXPORTS = {
    "Dataset": "dataset", "Model": "model", "load_model": "model", "Network": "network",
    "parse_arch": "arch", "fit": "solver", "FitResult": "trials", "TrialResult": "trials",
    "Problem": "problem", "Settings": "problem",
    "BtfError": "errors", "FormatError": "errors", "ArchitectureError": "errors",
    "NotSolvedError": "errors",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'btflearn' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = sorted(_EXPORTS)
