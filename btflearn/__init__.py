"""btflearn: learn Boolean circuits from examples with Boolean threshold functions (BTF) trained by
projections (divide-and-concur iterated with RRR)."""
from .dataset import Dataset
from .errors import ArchitectureError, BtfError, FormatError, NotSolvedError
from .model import Model, load_model
from .network import Network, parse_arch

__version__ = "0.1.0"


def __getattr__(name):
    # The solver pulls in the kernels (and Numba): import it only when asked for.
    if name in ("fit", "FitResult", "TrialResult"):
        from . import solver
        return getattr(solver, name)
    raise AttributeError(f"module 'btflearn' has no attribute {name!r}")


__all__ = ["Dataset", "Model", "Network", "parse_arch", "load_model", "fit", "FitResult", "TrialResult",
           "BtfError", "FormatError", "ArchitectureError", "NotSolvedError"]
