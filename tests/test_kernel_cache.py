"""The kernels' compiled cache lives in their own folder, which the install fills (btflearn.precompile),
so a first run with an empty NUMBA_CACHE_DIR compiles nothing."""
import json
import os
import subprocess
import sys

from btflearn.kernels.cache import ENV

FIT_AND_COUNT = """
import json, numpy as np
from btflearn.dataset import Dataset
from btflearn.solver import fit
from btflearn.kernels import numba_kernels as k
x = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=float)
fit(Dataset(x, x[:, :1] * x[:, 1:]), "2-2-1", max_iter=4, dtype="float32", backend="numba")
print(json.dumps(dict(hits=sum(k.rrr_run_trials.stats.cache_hits.values()),
                      misses=sum(k.rrr_run_trials.stats.cache_misses.values()))))
"""


def _run(code, env):
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_precompiled_kernels_serve_a_first_run_with_an_empty_numba_cache(tmp_path):
    folder = tmp_path / "kernels"
    env = dict(os.environ, **{ENV: str(folder), "NUMBA_CACHE_DIR": str(tmp_path / "numba1")})
    out = _run("from btflearn.precompile import precompile; precompile(('float32',))", env)
    assert "compiled the float32 kernels" in out
    assert any(name.startswith("numba_kernels.rrr_run_trials") for name in os.listdir(folder))
    assert not (tmp_path / "numba1").exists() or not any((tmp_path / "numba1").rglob("*.nbi"))
    # a new process, another empty NUMBA_CACHE_DIR: the kernel loads from the folder, nothing compiles
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba2")
    stats = json.loads(_run(FIT_AND_COUNT, env).strip().splitlines()[-1])
    assert stats["hits"] >= 1 and stats["misses"] == 0
    # without the folder's contents the same run compiles (a miss): the hit above was the folder's
    env[ENV] = str(tmp_path / "empty")
    stats = json.loads(_run(FIT_AND_COUNT, env).strip().splitlines()[-1])
    assert stats["misses"] >= 1 and stats["hits"] == 0


def test_the_build_backend_compiles_before_building_and_never_fails_the_build(monkeypatch):
    from btflearn import build_backend, precompile
    calls = []
    monkeypatch.delenv("BTFLEARN_NO_PRECOMPILE", raising=False)
    monkeypatch.setattr(build_backend._setuptools, "build_editable", lambda *a: calls.append("build") or "w.whl")
    monkeypatch.setattr(precompile, "precompile", lambda log: calls.append("compile"))
    assert build_backend.build_editable("dist") == "w.whl" and calls == ["compile", "build"]

    def broken(log):
        raise RuntimeError("no compiler today")
    monkeypatch.setattr(precompile, "precompile", broken)
    calls.clear()
    assert build_backend.build_editable("dist") == "w.whl" and calls == ["build"]
