"""RunSpec: the solver defaults a task runs with. Each task module owns its specs, and the CLI builds its
options and help from them, so what ``--help`` shows is what runs."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class RunSpec:
    arch: str | None = None     # None: the task builds its own network (e.g. from its size)
    sigma: float = 3.0
    beta: float = 0.2
    gamma: float | None = None  # None: 1 / max_iter
    max_iter: int = 10_000
    gapstop: float = 0.01
    trials: int = 1
    batch: int | None = None    # None: all trials at once (at most 16)
    dtype: str = "float64"      # storage of the replicated state
    minimise_time: float | None = None   # seconds per minimisation stage before the circuit; None: 60

    def settings(self) -> dict:
        """The spec as keyword arguments of btflearn.fit (arch included; not the minimisation budget)."""
        return {k: v for k, v in asdict(self).items() if k != "minimise_time"}

    def override(self, **changes) -> "RunSpec":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
