"""Architecture specs: the ways a user names a network (widths, ``dense:`` widths, a .wth or .net file)."""
from __future__ import annotations

import re

from .errors import ArchitectureError
from .network import Network

_ARCH_RE = re.compile(r"^(dense:)?(\d+(?:-\d+)+)$")


def parse_arch(spec) -> Network:
    """An architecture from a width string ``"4-4-4-4"`` (``"dense:6-12-12-6"`` for skip connections to
    every earlier layer), a list of widths, a ``.wth`` file or a ``.net`` file."""
    if isinstance(spec, Network):
        return spec
    if isinstance(spec, (list, tuple)):
        return Network.layered(spec)
    text = str(spec).strip()
    m = _ARCH_RE.match(text)
    if m:
        return Network.layered([int(w) for w in m.group(2).split("-")], dense=bool(m.group(1)))
    if text.endswith(".wth"):
        from .formats import read_wth
        return Network.layered(read_wth(text))
    if text.endswith(".net"):
        from .formats import read_net
        return read_net(text)[0]
    raise ArchitectureError(f"cannot read architecture {text!r}: use widths like 4-4-4-4, "
                            f"dense:6-12-12-6, or a .wth/.net file")
