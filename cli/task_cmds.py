"""Task commands registered under `btflearn solve` (ca, life, autoencoder, decoder, logic, classify), and
the task option sets `btflearn sweep` reuses. Thin: parse, build the task from btflearn.tasks, run.

Each task is described once by a TaskSpec: its click options and its solver defaults (the RunSpec its
task module owns, so --help shows what runs).
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import click

from .options import per_output_option, resolve_spec, resumable, run_task, solver_options


def task_spec(module: str, name: str = "SPEC"):
    """A RunSpec owned by the task module btflearn.tasks.<module>."""
    import importlib
    return getattr(importlib.import_module(f"btflearn.tasks.{module}"), name)


LIFE_SPECS = ("--local", {"off": task_spec("life"), "on": task_spec("life", "LOCAL_SPEC")})

COMMANDS = ("ca", "life", "autoencoder", "decoder", "logic", "classify")


def _shape(text):
    try:
        h, w = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected ROWSxCOLS like 4x4, got {text!r}") from None
    return h, w


@dataclass
class TaskSpec:
    name: str
    options: list                     # click.option decorators of the task's own parameters
    defaults: object                  # the task's RunSpec
    generalizes: bool = True          # has a test set (train on the first N items, test on the rest)
    help: str = ""
    extra: dict = field(default_factory=dict)

    def decorate(self, f):
        for opt in reversed(self.options):
            f = opt(f)
        return f


# -- builders: task options -> (task object or None, pool Dataset, default arch) ----------------------
def build_ca(rule, width, steps, radius, data_seed, n_items):
    from btflearn.tasks import ElementaryCA
    task = ElementaryCA(rule, width, steps, radius)
    return task, task.sample(n_items, seed=data_seed), task.default_arch()


def build_life(rule, shape, steps, data_seed, n_items, local=False):
    from btflearn.tasks import LifeLikeCA
    task = LifeLikeCA(rule, _shape(shape), steps)
    if local:
        return task, task.neighbourhood_table(), task_spec("life", "LOCAL_SPEC").arch
    return task, task.sample(n_items, seed=data_seed), task.default_arch()


def build_logic(kind, layers, width, p, teacher_seed, data_seed, n_items):
    from btflearn.tasks import RandomLogicTeacher
    teacher = RandomLogicTeacher([width] * (layers + 1), kind=kind, p=p, seed=teacher_seed)
    return teacher, teacher.sample(n_items, seed=data_seed), teacher.default_arch()


def build_classify(data):
    from btflearn.tasks import OPTDIGITS_ARCH, optdigits
    if data != "optdigits":
        raise click.BadParameter(f"unknown data set {data!r}", param_hint="--data")
    return None, optdigits(), OPTDIGITS_ARCH


_CA_OPTS = [
    click.option("--rule", type=int, default=30, show_default=True, help="Wolfram rule code."),
    click.option("--width", type=click.IntRange(min=3), default=16, show_default=True, help="Cells on the ring."),
    click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True,
                 help="Updates between input and target."),
    click.option("--radius", type=click.IntRange(min=1), default=1, show_default=True,
                 help="Neighbourhood radius (2r+1 cells)."),
    click.option("--data-seed", type=int, default=0, show_default=True, help="Seed of the random initial states."),
]
_LIFE_OPTS = [
    click.option("--rule", default="B3/S23", show_default=True, help="Life-like rule in B/S notation."),
    click.option("--shape", default="4x4", show_default=True, help="Torus size ROWSxCOLS."),
    click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True),
    click.option("--data-seed", type=int, default=0, show_default=True, help="Seed of the random initial states."),
]
_LOGIC_OPTS = [
    click.option("--kind", type=click.Choice(["andor", "maj"]), default="andor", show_default=True,
                 help="Teacher gates: 2-input AND/OR or 3-input majority (else COPY)."),
    click.option("--layers", type=click.IntRange(min=1), default=3, show_default=True, help="Teacher depth."),
    click.option("--width", type=click.IntRange(min=3), default=32, show_default=True, help="Teacher width."),
    click.option("--p", type=click.FloatRange(0, 1), default=0.5, show_default=True,
                 help="Probability that a node is a gate rather than a COPY."),
    click.option("--teacher-seed", type=int, default=0, show_default=True),
    click.option("--data-seed", type=int, default=0, show_default=True, help="Seed of the random inputs."),
]
_CLASSIFY_OPTS = [
    click.option("--data", type=click.Choice(["optdigits"]), default="optdigits", show_default=True,
                 help="Shipped data set (optdigits = mnistjr.dat, 64 analog inputs, 10 classes)."),
]

SPECS = {
    "ca": TaskSpec("ca", _CA_OPTS, task_spec("ca"),
                   help="Elementary cellular automaton on a ring (Wolfram rule)."),
    "life": TaskSpec("life", _LIFE_OPTS, task_spec("life"),
                     help="Life-like cellular automaton on a torus (B/S rule)."),
    "logic": TaskSpec("logic", _LOGIC_OPTS, task_spec("logic"),
                      help="Random layered AND/OR or majority teacher circuit."),
    "classify": TaskSpec("classify", _CLASSIFY_OPTS, task_spec("classify"),
                         help="Classification with analog inputs, argmax readout (optdigits)."),
}
BUILDERS = {"ca": build_ca, "life": build_life, "logic": build_logic, "classify": build_classify}


def _split(pool, n_train, n_test):
    from btflearn.errors import BtfError
    if n_train > pool.n_items:
        raise BtfError(f"--n-train {n_train} is more than the {pool.n_items} items available")
    train, test = pool.split(n_train)
    if test is not None and n_test is not None:
        test = test.subset(slice(0, n_test))
    return train, test


def _generalization_options(default_train, default_test):
    def wrap(f):
        f = click.option("--n-test", type=click.IntRange(min=0), default=default_test, show_default=True,
                         help="Test items (the ones after the training items).")(f)
        f = click.option("--n-train", type=click.IntRange(min=1), default=default_train, show_default=True,
                         help="Training items.")(f)
        return f
    return wrap


def _local_ca_network(task, spec):
    """``local:WINDOWxHIDDEN[xLAYERS]`` -> task.local_network(...)."""
    from btflearn.errors import BtfError
    parts = spec[len("local:"):].split("x")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise click.UsageError(f"--arch {spec}: a local CA network is local:WINDOWxHIDDEN[xLAYERS], "
                               f"e.g. local:5x4")
    try:
        return task.local_network(*map(int, parts))
    except BtfError as err:
        raise click.UsageError(f"--arch {spec}: {err}") from None


# -- solve commands --------------------------------------------------------------------------------
@click.command()
@SPECS["ca"].decorate
@_generalization_options(256, 10_000)
@click.option("--recover/--no-recover", default=True, show_default=True,
              help="Read the fitted model back as a local rule per cell (when the neighbourhood fits the ring).")
@per_output_option
@solver_options(SPECS["ca"].defaults)
@resumable
def ca(rule, width, steps, radius, data_seed, n_train, n_test, recover, arch, out, **opts):
    """Learn an elementary cellular automaton: a random ring state -> the state STEPS updates later."""
    task, pool, default_arch = build_ca(rule, width, steps, radius, data_seed, n_train + n_test)
    train, test = _split(pool, n_train, n_test)
    if arch is not None and arch.startswith("local:"):
        arch = _local_ca_network(task, arch)
    result, _ = run_task(train, test, arch or default_arch, opts, out, require_exact=False)
    if recover and 2 * task.reach + 1 <= task.width:
        from btflearn.tasks import recover_rule
        click.echo(recover_rule(result.model, task).summary())
    if not result.solved:
        raise click.ClickException("not solved: the model does not reproduce every training item")


@click.command()
@SPECS["life"].decorate
@_generalization_options(512, 10_000)
@click.option("--local", is_flag=True,
              help="Learn the rule itself: the 512-row table of one cell's next state from its 3x3 "
                   "neighbourhood (9 inputs, 1 output) instead of the whole torus (defaults: see "
                   "'--local on' below).")
@click.option("--recover/--no-recover", default=True, show_default=True,
              help="Read a one-step torus model back as the rule each cell implements.")
@per_output_option
@solver_options(LIFE_SPECS)
@resumable
def life(rule, shape, steps, data_seed, n_train, n_test, local, recover, arch, out, **opts):
    """Learn a Life-like cellular automaton (default Conway's B3/S23) on a torus."""
    resolve_spec(opts, LIFE_SPECS[1]["on" if local else "off"])
    task, pool, default_arch = build_life(rule, shape, steps, data_seed, n_train + n_test, local)
    if local:
        train, test = pool, None
    else:
        train, test = _split(pool, n_train, n_test)
    result, _ = run_task(train, test, arch or default_arch, opts, out, require_exact=False)
    if local:
        click.echo(f"learned rule: {task.describe_table(result.model.predict(pool.inputs)[:, 0] > 0)} "
                   f"(true {task.rule})")
    elif recover and steps == 1:
        from btflearn.tasks import recover_rule
        click.echo(recover_rule(result.model, task).summary())
    if not result.solved:
        raise click.ClickException("not solved: the model does not reproduce every training item")


@click.command()
@click.option("--k", type=click.IntRange(1, 10), default=4, show_default=True,
              help="2^k vectors of length 2^k through a k-wide bottleneck.")
@click.option("--data", type=click.Choice(["shipped", "random"]), default="shipped", show_default=True,
              help="The reference auto8/16/32.dat (k = 3, 4, 5) or fresh random vectors.")
@click.option("--data-seed", type=int, default=0, show_default=True, help="Seed of random vectors.")
@solver_options(task_spec("autoencoder"))
@resumable
def autoencoder(k, data, data_seed, arch, out, **opts):
    """Binary autoencoder: 2^k random binary vectors mapped to themselves (reference: auto16, 16-4-16-16)."""
    from btflearn.tasks import autoencoder as make, autoencoder_arch, load_autoencoder
    size = 1 << k
    if data == "shipped":
        if size not in (8, 16, 32):
            raise click.BadParameter("shipped data exists for k = 3, 4, 5; use --data random", param_hint="--k")
        ds = load_autoencoder(size)
    else:
        ds = make(k, seed=data_seed)
    run_task(ds, None, arch or autoencoder_arch(size), opts, out)


@click.command()
@click.option("--vectors", type=click.IntRange(min=1), default=16, show_default=True, help="Random target vectors.")
@click.option("--length", type=click.IntRange(min=1), default=16, show_default=True, help="Bits per vector.")
@click.option("--code-bits", type=click.IntRange(min=1), default=4, show_default=True,
              help="Free inputs (code bits, or one-hot generators with --code onehot).")
@click.option("--code", type=click.Choice(["binary", "onehot"]), default="binary", show_default=True)
@click.option("--mnist4", is_flag=True, help="The shipped mnist4 images (16 one-hot generators, arch 16-256-256).")
@click.option("--data-seed", type=int, default=0, show_default=True)
@solver_options(task_spec("decoder"))
@resumable
def decoder(vectors, length, code_bits, code, mnist4, data_seed, arch, out, **opts):
    """Decoder with free inputs: the network must produce every target from a code it chooses
    (reference rand16: 16 random 16-bit vectors from 4 code bits, 4-16-16)."""
    from btflearn.tasks import decoder_report, load_mnist4, random_decoder
    if mnist4:
        ds, default_arch = load_mnist4(), "16-256-256"
    else:
        ds = random_decoder(vectors, length, code_bits, seed=data_seed, code=code)
        default_arch = f"{code_bits}-{length}-{length}"
    result, _ = run_task(ds, None, arch or default_arch, opts, out, require_exact=False)
    if ds.n_inputs <= 20:
        rep = decoder_report(result.model, ds)
        click.echo(f"decoder: {rep['reproduced']}/{rep['items']} targets produced by some code, "
                   f"{rep['codes_used']} distinct codes used"
                   + (", every target has its own code" if rep["one_code_per_target"] else ""))
    if not result.solved:
        raise click.ClickException("not solved: some target is not produced")


@click.command()
@SPECS["logic"].decorate
@_generalization_options(256, 9744)
@per_output_option
@solver_options(SPECS["logic"].defaults)
@resumable
def logic(kind, layers, width, p, teacher_seed, data_seed, n_train, n_test, arch, out, **opts):
    """Logic-network inference: learn a random layered teacher circuit from random input/output pairs."""
    teacher, pool, default_arch = build_logic(kind, layers, width, p, teacher_seed, data_seed, n_train + n_test)
    train, test = _split(pool, n_train, n_test)
    click.echo(textwrap.fill(f"teacher: {teacher!r}, nodes {teacher.counts()}", 79, subsequent_indent="  ",
                             break_long_words=False), err=True)
    result, _ = run_task(train, test, arch or default_arch, opts, out, require_exact=False)
    if not result.solved:
        raise click.ClickException("not solved: the model does not reproduce every training item")


@click.command()
@SPECS["classify"].decorate
@_generalization_options(512, None)
@solver_options(SPECS["classify"].defaults)
@resumable
def classify(data, n_train, n_test, arch, out, **opts):
    """Classification with analog inputs and argmax readout (optdigits: 64-64-10, sigma 5). The exact
    accuracy is the classification accuracy. Exits 0 whether or not every training item is right."""
    _, pool, default_arch = build_classify(data)
    train, test = _split(pool, n_train, n_test)
    run_task(train, test, arch or default_arch, opts, out, require_exact=False)
