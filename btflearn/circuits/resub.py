"""Care-set resubstitution: a circuit only has to be right on the items it was learned from.

The network is decomposed into an and-inverter graph (2-input ANDs, NOT free: the unit ABC counts) and
every signal is simulated on every item as one bit-vector (a Python int, bit i = item i: word-wide bit
operations without numpy's per-call overhead, which dominates for a few words per signal; the searches
below that compare many signals at once use numpy uint64 words; btflearn.circuits.care_aig). Then, for
each AND node g in turn:

* its care set: the items on which flipping g changes some output (the flip is propagated through g's
  transitive fanout, only along nodes whose value actually changes). On every other item, and on input
  patterns that are not items, g's value is free;
* its divisors: the inputs and every node outside g's transitive fanout (using one cannot make a cycle);
  in a large network only a window of them: the inputs and the nearest nodes of g's transitive fanin;
* a cheaper function of divisors that agrees with g on its care items: a constant, a divisor or its
  complement (no new node), an AND/OR of two divisor literals (1 node), an AND/OR of three literals or
  an AND of a literal with an OR of two (2 nodes), the XOR of two divisors (3 nodes), and the smallest
  AND formula of any function of three divisors near g (up to 7 nodes; every completion of the
  don't-care minterms is considered). Complemented outputs give the OR forms;
* the replacement is accepted only when the AND count drops: the nodes freed (g's fanout-free cone minus
  what the replacement reuses) exceed the nodes it adds. Dead logic goes at once, the changed fanout is
  re-simulated, and the next node's care set is computed on the network as it is then.

When a pass changes nothing, one pass re-synthesises each node with a cone of 2+ nodes as the smallest
AIG over a few divisors outside that cone (SAT, ``btflearn.circuits.exact``); then a "kick": one pass
in random order that also accepts replacements saving nothing, which changes the structure so that the
greedy passes can continue. Kicks repeat until several in a row find nothing smaller; the network never
grows. All of it runs from the input network once per visiting order (outputs first, largest cone first,
inputs first, a few random orders) within a time budget, and the smallest result is kept. The result is
simulated on every item and must reproduce them exactly (anything else is an internal error).
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..errors import BtfError
from .care_aig import Aig, aig_of, bits_to_int, network_of, tfi
from .ir import LogicNetwork
from .simulate import pack

MAX_PAIR = 256        # literals kept for the pairwise (1-node) search
MAX_TRIPLE = 48       # literals kept for the 2-node searches
MAX_SUPPORT3 = 24     # divisors near g kept for the 3-input formula and XOR searches
MAX_DIVISORS = 600    # window: in larger networks a node's divisors are the nearest of its fanin cone
SUPPORT_POOL = 96     # divisors near g that the exact synthesis picks its support from
MAX_EXACT_GATES = 6   # largest replacement the exact synthesis looks for
EXACT_CONFLICTS = 5000  # SAT conflicts per size tried
DEFAULT_TIME = 60.0   # seconds
KICKS = 10            # kicks in a row without a smaller network that end a try (see _passes)


@dataclass
class ResubReport:
    ands_before: int
    ands_after: int
    seconds: float
    passes: int
    accepted: dict = field(default_factory=dict)   # kind of replacement -> how many
    stopped: str = "converged"
    order: str = ""                                # the visiting order of the kept result

    def to_dict(self) -> dict:
        return {"ands_before": self.ands_before, "ands_after": self.ands_after, "seconds": round(self.seconds, 3),
                "passes": self.passes, "accepted": dict(self.accepted), "stopped": self.stopped,
                "order": self.order}

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.accepted.items())) or "none"
        return (f"resubstitution in {self.seconds:.1f} s ({self.passes} passes, {self.stopped}): AIG ANDs "
                f"{self.ands_before} -> {self.ands_after} (best order: {self.order}); replacements: {kinds}")


# -- small AND formulas of all 3-input functions ----------------------------------------------------

X3 = (0b10101010, 0b11001100, 0b11110000)   # truth tables of the three inputs (minterm m: bit m)


@lru_cache(maxsize=1)
def _formulas3():
    """The smallest AND-inverter *formula* (no sharing) of each 3-input function: (cost, recipe) lists
    indexed by the 8-bit truth table, a recipe being None (constant or literal) or (u, v) with
    f = u & v or, for an odd table whose complement is u & v, ("not", g). Dynamic programming over the
    256 tables: cost(u & v) = cost(u) + cost(v) + 1 (complements are free)."""
    inf = 1 << 30
    cost = [inf] * 256
    recipe = [None] * 256
    for t in (0, 0xFF) + X3 + tuple(x ^ 0xFF for x in X3):
        cost[t] = 0
    changed = True
    while changed:
        changed = False
        known = [t for t in range(256) if cost[t] < inf]
        for u, v in itertools.combinations_with_replacement(known, 2):
            c = cost[u] + cost[v] + 1
            w = u & v
            for t, r in ((w, (u, v)), (w ^ 0xFF, ("not", w))):
                if c < cost[t]:
                    cost[t], recipe[t] = c, r
                    changed = True
    return cost, recipe


@lru_cache(maxsize=1)
def _cheapest_completion():
    """For every (on-set, off-set) pair of disjoint minterm sets of 3 inputs, packed as on * 256 + off, the
    truth table of the cheapest formula that is 1 on the on-set and 0 on the off-set (-1 if they meet)."""
    cost, _ = _formulas3()
    funcs = np.arange(256)
    by_cost = funcs[np.argsort(np.array(cost), kind="stable")]
    out = np.full(65536, -1, dtype=np.int64)
    on = np.arange(65536) >> 8
    off = np.arange(65536) & 0xFF
    ok_pairs = np.flatnonzero((on & off) == 0)
    con, coff = on[ok_pairs, None], off[ok_pairs, None]
    fits = ((by_cost[None, :] & con) == con) & ((by_cost[None, :] & coff) == 0)
    out[ok_pairs] = by_cost[np.argmax(fits, axis=1)]
    return out


def _formula_expr(t: int, leaves):
    """Expression of 3-input truth table t over the literal expressions ``leaves`` (one per input)."""
    _, recipe = _formulas3()
    if t == 0:
        return 0
    if t == 0xFF:
        return 1
    for i, x in enumerate(X3):
        if t == x:
            return leaves[i]
        if t == x ^ 0xFF:
            return _neg(leaves[i])
    r = recipe[t]
    if r[0] == "not":
        return _neg(_formula_expr(r[1], leaves))
    return _and(_formula_expr(r[0], leaves), _formula_expr(r[1], leaves))


# -- the search ------------------------------------------------------------------------------------

def _popcount(x: np.ndarray) -> np.ndarray:
    return np.unpackbits(x.view(np.uint8), axis=-1).sum(axis=-1)


class _Search:
    def __init__(self, aig: Aig, n_words: int):
        self.aig = aig
        self.w = n_words
        self.nbytes = 8 * n_words

    def one(self, v: int) -> np.ndarray:
        return np.frombuffer(v.to_bytes(self.nbytes, "little"), dtype="<u8")


def _plan(aig: Aig, expr):
    """(literal or None, new nodes, nodes reused) of building ``expr`` without building it: expr is a
    literal (int) or ("and", x, y) or ("not", x)."""
    if isinstance(expr, int):
        return expr, 0, {expr >> 1}
    if expr[0] == "not":
        lit, new, used = _plan(aig, expr[1])
        return (None if lit is None else lit ^ 1), new, used
    la, na, ua = _plan(aig, expr[1])
    lb, nb, ub = _plan(aig, expr[2])
    used = ua | ub
    if la is not None and lb is not None:
        found = aig.lookup(la, lb)
        if found is not None:
            return found, na + nb, used | {found >> 1}
    return None, na + nb + 1, used


def _build(aig: Aig, expr) -> int:
    if isinstance(expr, int):
        return expr
    if expr[0] == "not":
        return _build(aig, expr[1]) ^ 1
    return aig.add_and(_build(aig, expr[1]), _build(aig, expr[2]))


def _and(x, y):
    return ("and", x, y)


def _not(x):
    return ("not", x)


def _neg(x):
    return x ^ 1 if isinstance(x, int) else _not(x)


class _LiteralsOf:
    """Literal i of the search: divisor i % k, complemented when i >= k."""

    def __init__(self, divs):
        self.divs, self.k = divs, len(divs)

    def __getitem__(self, i):
        i = int(i)
        return 2 * int(self.divs[i % self.k]) + (i >= self.k)


def _tfi_allowed(aig: Aig, near: list, allowed, limit: int) -> list:
    """Divisors (``allowed[d]``) from g's fanin cone ``near`` (``tfi``, nearest first), then the inputs."""
    out = [d for d in near[:4 * limit] if allowed[d]][:limit]
    return out + [j for j in range(1, 1 + aig.n_inputs) if j not in out]


def _candidates(aig: Aig, search: _Search, g: int, care: int, divs, allowed, near: list,
                three_input: bool = True, budget: int = MAX_EXACT_GATES):
    """Replacement expressions for node g agreeing with it on ``care``, cheapest kinds first, as
    (kind, expr) pairs (a generator: the caller stops at the first that pays). With a ``budget`` of 0 new
    nodes only constants and divisors are searched; otherwise every kind, since parts of a larger
    expression may exist already."""
    mask = aig.mask
    f = aig.val[g]
    on, off = f & care, (f ^ mask) & care
    if on == 0:
        yield "const", 0
        return
    if off == 0:
        yield "const", 1
        return
    V = aig.words[divs]
    ON, OFF = search.one(on), search.one(off)
    CARE = ON | OFF
    # 0 nodes: a divisor or its complement
    same = np.flatnonzero(~np.any((V ^ search.one(f)) & CARE, axis=1))
    if same.size:
        yield "divisor", 2 * int(divs[same[0]])
    flip = np.flatnonzero(~np.any((V ^ search.one(f ^ mask)) & CARE, axis=1))
    if flip.size:
        yield "divisor", 2 * int(divs[flip[0]]) + 1
    if budget < 1:
        return
    L = np.concatenate([V, ~V])                      # literal i: divisor i % k, complemented when i >= k
    lit_of = _LiteralsOf(divs)
    sides = ((ON, OFF, False), (OFF, ON, True))      # the function itself, or its complement (OR forms)
    # 1 node: AND of two literals covering the on-set and meeting on no off-set item
    covers = {}
    for on_w, off_w, neg in sides:
        cov = np.flatnonzero(~np.any(on_w & ~L, axis=1))
        if cov.size:
            hits = _popcount(L[cov] & off_w)
            cov = cov[np.argsort(hits, kind="stable")]
        covers[neg] = cov
        top = cov[:MAX_PAIR]
        if top.size < 2:
            continue
        A = L[top] & off_w
        ok = ~np.any(A[:, None, :] & A[None, :, :], axis=2)
        for i, j in np.argwhere(np.triu(ok, 1))[:32]:
            e = _and(lit_of[top[i]], lit_of[top[j]])
            yield "and2", (_not(e) if neg else e)
    # 2 nodes: AND of three literals; a literal AND an OR of two literals
    for on_w, off_w, neg in sides:
        top = covers[neg][:MAX_TRIPLE]
        if top.size >= 3:
            A = L[top] & off_w
            B = A[:, None, :] & A[None, :, :]
            ok = ~np.any(B[:, :, None, :] & A[None, None, :, :], axis=3)
            ii, jj, kk = np.nonzero(ok)
            sel = (ii < jj) & (jj < kk)
            for i, j, m in list(zip(ii[sel], jj[sel], kk[sel]))[:16]:
                e = _and(_and(lit_of[top[i]], lit_of[top[j]]), lit_of[top[m]])
                yield "and3", (_not(e) if neg else e)
        for i in covers[neg][:MAX_TRIPLE // 2]:
            rest = off_w & L[i]
            zero = np.flatnonzero(~np.any(L & rest, axis=1))   # literals false on the remaining off-set
            if zero.size < 2:
                continue
            miss = on_w & ~L[zero]
            order = np.argsort(_popcount(miss), kind="stable")[:MAX_PAIR // 2]
            zero, miss = zero[order], miss[order]
            ok = ~np.any(miss[:, None, :] & miss[None, :, :], axis=2)
            for a, b in np.argwhere(np.triu(ok, 1))[:4]:
                e = _and(lit_of[i], _not(_and(lit_of[zero[a]] ^ 1, lit_of[zero[b]] ^ 1)))
                yield "andor", (_not(e) if neg else e)
    # 3 nodes: XOR of two divisors
    keys = np.ascontiguousarray(V & CARE).view(np.dtype((np.void, 8 * search.w))).ravel().tolist()
    index = {}
    for key, d in zip(keys, divs.tolist()):
        index.setdefault(key, d)
    for d in _tfi_allowed(aig, near, allowed, 2 * MAX_SUPPORT3):
        v = aig.val[d]
        for comp in (0, 1):
            t = (f ^ v ^ (mask if comp else 0)) & care
            e = index.get(t.to_bytes(8 * search.w, "little"))
            if e is not None and e != d:
                a, b = 2 * d, 2 * e
                x = _not(_and(_not(_and(a, b ^ 1)), _not(_and(a ^ 1, b))))
                yield "xor", (_not(x) if comp else x)
    # up to 7 nodes: any function of three divisors, by the table of smallest 3-input AIGs
    if three_input:
        yield from _three_input(aig, g, care, allowed, near, budget)


def _three_input(aig, g, care, allowed, near, budget):
    """Functions of three divisors (nearest in g's fanin cone first) that agree with g on its care items,
    cheapest formula first."""
    pick = [d for d in near[:4 * MAX_SUPPORT3] if allowed[d]][:MAX_SUPPORT3]
    if len(pick) < 3:
        return
    n_items = aig.mask.bit_length()
    items = np.flatnonzero(np.array([(care >> i) & 1 for i in range(n_items)], dtype=bool)) \
        if n_items <= 4096 else None
    if items is None or items.size == 0:
        return
    def bits(v):
        return np.array([(v >> int(i)) & 1 for i in items], dtype=np.int64)
    cols = np.stack([bits(aig.val[d]) for d in pick])          # (divisors, care items)
    fbits = bits(aig.val[g]).astype(bool)
    triples = np.array(list(itertools.combinations(range(len(pick)), 3)))
    code = cols[triples[:, 0]] | cols[triples[:, 1]] << 1 | cols[triples[:, 2]] << 2
    onehot = np.left_shift(1, code)
    need_on = np.bitwise_or.reduce(np.where(fbits, onehot, 0), axis=1)
    need_off = np.bitwise_or.reduce(np.where(fbits, 0, onehot), axis=1)
    table = _cheapest_completion()[need_on << 8 | need_off]
    cost, _ = _formulas3()
    ok = np.flatnonzero(table >= 0)
    costs = np.array([cost[t] for t in table[ok]], dtype=np.int64)
    ok, costs = ok[costs <= budget + 2], costs[costs <= budget + 2]  # parts may exist already
    for j in ok[np.argsort(costs, kind="stable")][:8]:
        t = int(table[j])
        if cost[t] == 0:
            continue  # a constant or one divisor: the cheaper searches have seen it
        leaves = [2 * pick[i] for i in triples[j]]
        yield f"func3-{cost[t]}", _formula_expr(t, leaves)


def _support(aig: Aig, g: int, care: int, allowed, near: list, size: int):
    """A few divisors on which g's care function depends (no two care items that agree on all of them
    differ in g), chosen greedily from g's fanin cone and the inputs, or None."""
    f = aig.val[g]
    pool = _tfi_allowed(aig, near, allowed, SUPPORT_POOL)
    classes = [(f & care, (f ^ aig.mask) & care)]
    chosen = []
    while True:
        score = sum(a.bit_count() * b.bit_count() for a, b in classes)
        if score == 0:
            return chosen
        if len(chosen) == size:
            return None
        best = None
        for d in pool:
            if d in chosen:
                continue
            v = aig.val[d]
            sc = 0
            for a, b in classes:
                sc += (a & v).bit_count() * (b & v).bit_count() + (a & ~v).bit_count() * (b & ~v).bit_count()
            if best is None or sc < best[0]:
                best = (sc, d)
        if best is None or best[0] == score:
            return None
        d = best[1]
        v = aig.val[d]
        chosen.append(d)
        classes = [c for a, b in classes for c in ((a & v, b & v), (a & ~v & aig.mask, b & ~v & aig.mask))
                   if c[0] or c[1]]


def _exact(aig: Aig, g: int, care: int, allowed, near: list, max_gates: int):
    """The smallest AIG over a greedy support of g that agrees with g on its care items (SAT)."""
    from .exact import MAX_INPUTS, smallest_aig
    # divisors inside g's own fanout-free cone would stay alive and eat the gain: support from outside
    allowed = allowed.copy()
    allowed[list(aig.cone(g))] = False
    support = _support(aig, g, care, allowed, near, min(MAX_INPUTS - 1, 5))
    if not support or max_gates < 1:
        return None
    f = aig.val[g]
    on, off = set(), set()
    rest = care
    vals = [aig.val[d] for d in support]
    while rest:
        low = rest & -rest
        i = low.bit_length() - 1
        m = 0
        for j, v in enumerate(vals):
            m |= ((v >> i) & 1) << j
        (on if (f >> i) & 1 else off).add(m)
        rest ^= low
    program = smallest_aig(len(support), on, off, max_gates=max_gates, conflicts=EXACT_CONFLICTS)
    if program is None or not program.gates:
        return None
    exprs = [2 * d for d in support]

    def lit_expr(literal):
        e = exprs[literal >> 1]
        return _neg(e) if literal & 1 else e

    for a, b in program.gates:
        exprs.append(_and(lit_expr(a), lit_expr(b)))
    return lit_expr(program.out)


# -- the driver ------------------------------------------------------------------------------------

ORDERS = ("outputs", "mffc", "inputs")


def resubstitute(net: LogicNetwork, inputs, expected, time_limit: float | None = DEFAULT_TIME,
                 max_passes: int | None = None, orders=ORDERS, shuffles: int = 4, seed: int = 0,
                 three_input: bool = True, exact: bool = True, kicks: int = KICKS, progress=None):
    """A network equal to ``expected`` on every item of ``inputs`` (N x n, +-1 or bools) and, usually,
    smaller in AIG ANDs than ``net`` (which must reproduce ``expected``), with a ResubReport.

    The passes (see ``_passes``: greedy, exact synthesis, kicks) end in different local minima depending
    on the order nodes are visited in, so they run from ``net`` once per order in ``orders``
    ("outputs": reverse topological, "mffc": largest fanout-free cone first, "inputs": topological) and
    then in ``shuffles`` random orders (``seed``), within ``time_limit`` seconds (None: no limit), and the
    smallest result is kept. A try ends after ``kicks`` kicks in a row that found nothing smaller (0: no
    kicks) or after ``max_passes`` passes (None: no limit). ``three_input``: also try functions of three
    divisors; ``exact``: when the greedy passes converge, re-synthesise each node's care function over a
    few divisors as the smallest AIG (SAT, ``btflearn.circuits.exact``). The result is never larger than
    ``net`` in AIG ANDs. ``progress``: called after every pass with a dict (stage, order, ands, best)."""
    t0 = time.perf_counter()
    inputs = np.asarray(inputs)
    expected = np.asarray(expected)
    bits_in = inputs if inputs.dtype == bool else inputs > 0
    bits_out = expected if expected.dtype == bool else expected > 0
    if bits_in.ndim != 2 or bits_in.shape[1] != net.n_inputs:
        raise BtfError(f"the circuit has {net.n_inputs} inputs, got patterns of shape {bits_in.shape}")
    if bits_out.shape != (bits_in.shape[0], net.n_outputs):
        raise BtfError(f"expected outputs of shape {(bits_in.shape[0], net.n_outputs)}, got {bits_out.shape}")
    for order in orders:
        if order not in ORDERS:
            raise BtfError(f"unknown resubstitution order {order!r}: use {', '.join(ORDERS)}")
    n_items = bits_in.shape[0]
    mask = (1 << n_items) - 1
    in_words = pack(bits_in)
    input_values = [bits_to_int(in_words[j]) for j in range(net.n_inputs)]
    targets = [bits_to_int(w) for w in pack(bits_out)] if net.n_outputs else []
    start = aig_of(net, input_values, mask)
    if [start.lval(o) for o in start.outputs] != targets:
        raise BtfError("resubstitution needs a circuit that reproduces its items; this one does not")
    before = start.n_ands()
    report = ResubReport(before, before, 0.0, 0)
    deadline = None if time_limit is None else t0 + time_limit
    rng = np.random.default_rng(seed)
    best = None
    plan = list(orders) + ["random"] * max(0, int(shuffles))
    for k, order in enumerate(plan):
        if k and deadline is not None and time.perf_counter() > deadline:
            report.stopped = "time limit"
            break
        aig = aig_of(net, input_values, mask) if k else start
        def step(ands, order=order):
            if progress is not None:
                progress(dict(stage="resubstitution", order=order, ands=ands,
                              best=min(ands, best[0].n_ands() if best else before)))
        aig, accepted, passes, stopped = _passes(aig, order, max_passes, deadline, rng, three_input, exact,
                                                 kicks, step)
        report.passes += passes
        if [aig.lval(o) for o in aig.outputs] != targets:
            raise BtfError("internal error: resubstitution changed an output on an item")
        if best is None or aig.n_ands() < best[0].n_ands():
            best = (aig, accepted, order)
        if stopped != "converged":
            report.stopped = stopped
            break
    aig, report.accepted, report.order = best
    result = network_of(aig, net)
    from .simulate import simulate
    if not np.array_equal(simulate(result, bits_in) > 0, bits_out):
        raise BtfError("internal error: the resubstituted circuit does not reproduce its items")
    report.ands_after = aig.n_ands()
    report.seconds = time.perf_counter() - t0
    if report.ands_after > before:
        raise BtfError("internal error: resubstitution made the circuit larger")
    return result, report


def _passes(aig: Aig, order: str, max_passes: int, deadline, rng, three_input: bool, exact: bool,
            kicks: int = 0, step=lambda ands: None):
    """Greedy passes over the AND nodes in ``order`` until one changes nothing, then (``exact``) one pass
    of exact synthesis, and again while that helps. Then one pass in random order that also takes
    replacements that save nothing (a kick: it changes the structure, which lets the next greedy passes
    out of a local minimum) and greedy passes again, until ``kicks`` kicks in a row found nothing smaller
    (no pass ever makes the network larger). Returns the smallest network met (an Aig),
    the kinds accepted, the passes run and "converged" or "time limit"."""
    search = _Search(aig, max(1, (aig.mask.bit_length() + 63) // 64))
    accepted = {}
    passes = 0
    mode = "greedy"
    best = None
    stale = 0
    stopped = "converged"
    while max_passes is None or passes < max_passes:
        passes += 1
        changed = False
        nodes = [n for n in range(len(aig.fin)) if aig.fin[n] is not None and aig.alive[n]]
        if mode == "exact" or (order == "mffc" and mode == "greedy"):
            nodes.sort(key=lambda n: -aig.freed(n))
        elif order == "outputs" and mode == "greedy":
            nodes.sort(key=lambda n: -aig.lev[n])
        elif order == "inputs" and mode == "greedy":
            nodes.sort(key=lambda n: aig.lev[n])
        else:
            rng.shuffle(nodes)
        for g in nodes:
            if deadline is not None and time.perf_counter() > deadline:
                stopped = "time limit"
                break
            if not aig.alive[g] or aig.fin[g] is None:
                continue
            kind = _try_node(aig, search, g, three_input, mode == "exact", mode == "kick")
            if kind:
                accepted[kind] = accepted.get(kind, 0) + 1
                changed = True
        step(aig.n_ands())
        if stopped != "converged":
            break
        if mode == "kick":
            mode = "greedy"
        elif mode == "exact" and changed:
            mode = "greedy"
        elif not changed:
            if mode == "greedy" and exact:
                mode = "exact"
                continue
            # a local minimum: kick again unless ``kicks`` kicks in a row found nothing smaller
            if best is None or aig.n_ands() < best.n_ands():
                best = aig.copy()
                stale = 0
            else:
                stale += 1
            if stale >= kicks:
                break
            mode = "kick"
    if best is None or aig.n_ands() < best.n_ands():
        best = aig
    return best, accepted, passes, stopped


def _try_node(aig: Aig, search: _Search, g: int, three_input: bool, exact: bool = False, zero: bool = False):
    care = aig.care(g)
    fanout = aig.tfo(g)
    allowed = aig.live[:len(aig.fin)].copy()
    allowed[0] = False
    allowed[list(fanout)] = False
    divs = np.flatnonzero(allowed)
    # g's fanin cone, nearest first, found once for every search below (each takes a prefix)
    near = tfi(aig, g, 4 * max(MAX_DIVISORS if len(divs) > MAX_DIVISORS else 0, SUPPORT_POOL, 2 * MAX_SUPPORT3))
    if len(divs) > MAX_DIVISORS:   # the searches scan every divisor: a window keeps a node's cost bounded
        window = np.zeros_like(allowed)
        window[_tfi_allowed(aig, near, allowed, MAX_DIVISORS)] = True
        allowed = window
        divs = np.flatnonzero(allowed)
    mffc = aig.freed(g)
    if exact:
        if mffc < 2:
            return None
        expr = _exact(aig, g, care, allowed, near, min(MAX_EXACT_GATES, mffc - 1))
        cands = [] if expr is None else [("exact", expr)]
    else:
        cands = _candidates(aig, search, g, care, divs, allowed, near, three_input, mffc if zero else mffc - 1)
    for kind, expr in cands:
        lit, new, used = _plan(aig, expr)
        if g in used or new > mffc or (new == mffc and not zero):
            continue  # a part of the expression exists already as g itself (or above it): no gain
        gain = aig.freed(g, used) - new
        if gain < 0 or (gain == 0 and not zero):
            continue
        first_new = len(aig.fin)
        r = _build(aig, expr)
        aig.replace(g, r)
        for n in range(first_new, len(aig.fin)):  # a node the build made but nothing reads
            aig._kill(n)
        return kind.split("-")[0]
    return None
