"""`btflearn train --net X.wth --data X.dat`: run the reference files directly."""
from __future__ import annotations

import click

from .options import run_task, solver_options


@click.command()
@click.option("--net", "net_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Architecture: a .wth widths file or a .net network file.")
@click.option("--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="A .dat data file.")
@click.option("--items", type=click.IntRange(min=1), default=None,
              help="Train on the first N items; the rest are the test set.")
@solver_options()
def train(net_path, data_path, items, arch, out, **opts):
    """Train on a reference architecture and data file (exit status 1 unless every training item is
    reproduced)."""
    from btflearn.formats import read_dat
    from btflearn.network import parse_arch

    net = parse_arch(arch or net_path)
    data = read_dat(data_path, n_inputs=net.n_inputs)
    train_set, test_set = data.split(items) if items else (data, None)
    run_task(train_set, test_set, net, opts, out)
