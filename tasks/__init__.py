"""Task generators: each gives a Dataset (and default settings) usable from Python and the CLI."""
from .multiplier import DEFAULT_ARCH as MULTIPLIER_ARCH, multiplier

__all__ = ["multiplier", "MULTIPLIER_ARCH"]
