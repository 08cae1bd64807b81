"""Small end-to-end fits, one per task kind (seconds each), and recover_rule on fitted models."""
import numpy as np
import pytest

import btflearn
from btflearn.tasks import (ElementaryCA, LifeLikeCA, RandomLogicTeacher, decoder_report, load_autoencoder,
                            optdigits, random_decoder, recover_rule)


def test_rule232_generalizes_and_recover_rule_reads_it_back():
    ca = ElementaryCA(232, width=8)
    train = ca.sample(64, seed=1)
    res = btflearn.fit(train, "8-8", gamma=1e-3, max_iter=2000, seed=1)
    assert res.solved
    rec = recover_rule(res.model, ca)
    # exhaustive: every cell, every pattern, all 32 contexts of the other 5 cells (256 states in all)
    assert rec.exhaustive and rec.all_match
    assert all(rec.learned_rule(i) == "rule 232" for i in range(8))
    assert res.model.accuracy(ca.all_states()) == (1.0, 1.0)


def test_rule90_one_step_fit_recovered_exactly():
    ca = ElementaryCA(90, width=6)
    res = btflearn.fit(ca.all_states(), "6-12-6", gamma=1e-3, max_iter=3000, seed=0, trials=4)
    assert res.solved
    rec = recover_rule(res.model, ca)
    assert rec.all_match and rec.learned_rule(3) == "rule 90"
    # read against the wrong rule it fails everywhere
    assert not recover_rule(res.model, ElementaryCA(150, width=6)).matches.any()


def test_life_like_rule_on_a_3x3_torus():
    life = LifeLikeCA("B12345678/S012345678", shape=(3, 3))  # next = OR of the 3x3 block
    res = btflearn.fit(life.all_states(), "9-9-9", gamma=1e-3, max_iter=3000, seed=0)
    assert res.solved
    rec = recover_rule(res.model, life)
    assert rec.all_match and rec.learned_rule(0) == "B12345678/S012345678"


def test_logic_teacher_learned_and_generalizes():
    teacher = RandomLogicTeacher([8, 8, 8], kind="andor", p=0.5, seed=0)
    train, test = teacher.sample(1000, seed=0).split(128)
    res = btflearn.fit(train, "8-8-8", gamma=1e-3, max_iter=3000, seed=0)
    assert res.solved
    assert res.model.accuracy(test)[0] > 0.95


def test_autoencoder_auto8():
    res = btflearn.fit(load_autoencoder(8), "8-3-8-8", gamma=1e-4, max_iter=20000, seed=0, trials=2)
    assert res.solved and res.exact == 1.0


def test_decoder_free_binary_code_uses_every_code_once():
    ds = random_decoder(4, 6, 2, seed=0)
    res = btflearn.fit(ds, "2-6-6", beta=0.5, gamma=1e-3, max_iter=5000, seed=0, trials=2)
    assert res.solved
    rep = decoder_report(res.model, ds)
    assert rep["solved"] and rep["one_code_per_target"] and rep["codes_used"] == 4


def test_optdigits_argmax_fit_beats_chance():
    train, test = optdigits().split(64)
    res = btflearn.fit(train, "64-10", sigma=5.0, gamma=1e-3, max_iter=500, seed=0)
    assert res.model.readout == "argmax"
    per_bit, exact = res.model.accuracy(test)
    assert exact > 0.5  # 10 classes: chance is about 0.1


def test_rule30_local_network_recovers_the_rule_at_every_cell():
    """A locally connected net (5-cell windows: it still has to find which 3 cells matter) fits 256
    random states and reads back as rule 30 at every cell, exhaustively."""
    ca = ElementaryCA(30, width=8)
    res = btflearn.fit(ca.sample(128, seed=0), ca.local_network(window=5, hidden=4), gamma=1e-4,
                       max_iter=20000, seed=1)
    assert res.solved
    rec = recover_rule(res.model, ca)
    assert rec.exhaustive and rec.all_match
    assert res.model.accuracy(ca.all_states()) == (1.0, 1.0)
