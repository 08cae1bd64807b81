"""Reference data sets and architectures (MIT licence, see LICENSE in this folder)."""
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """Path of a shipped reference file, e.g. ``path("2x2.dat")``."""
    p = DATA_DIR / name
    if not p.is_file():
        raise FileNotFoundError(f"no shipped data file {name!r} in {DATA_DIR}")
    return p
