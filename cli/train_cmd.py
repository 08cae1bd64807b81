"""`btflearn train --net X.wth --data X.dat`: run the reference files directly."""
from __future__ import annotations

import click

from .options import run_task, solver_options


@click.command()
@click.option("--net", "net_path", type=click.Path(exists=True, dir_okay=False),
              help="The reference architecture file (.wth widths or .net network); or give --arch.")
@click.option("--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A .dat data file.")
@click.option("--items", type=click.IntRange(min=1), default=None,
              help="Train on the first N items; the rest are the test set.")
@solver_options()
def train(net_path, data_path, items, arch, out, **opts):
    """Train on a reference architecture and data file (exit status 1 unless every training item is
    reproduced)."""
    from btflearn.formats import read_dat
    from btflearn.arch import parse_arch

    if (net_path is None) == (arch is None):
        raise click.UsageError("give the architecture once: --net FILE (a .wth/.net file) or --arch")
    net = parse_arch(arch or net_path)
    data = read_dat(data_path, n_inputs=net.n_inputs)
    train_set, test_set = data.split(items) if items else (data, None)
    run_task(train_set, test_set, net, opts, out)
