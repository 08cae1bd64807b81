"""`btflearn plot-gap RESULT.json ... -o FILE.png`."""
from __future__ import annotations

import click


@click.command("plot-gap")
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="PNG file to write.")
@click.option("--title", default=None, help="Plot title.")
def plot_gap(results, output, title):
    """Plot the gap against iterations of every trial in the result.json files of `solve --out` runs."""
    from btflearn.plots import plot_gap as draw
    click.echo(f"wrote {draw(results, output, title)}")
