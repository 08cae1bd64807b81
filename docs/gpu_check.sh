#!/usr/bin/env bash
# The GPU check in one run (docs/gpu.md): on a machine with an NVIDIA GPU, CuPy, Numba and no network,
# from the repository root:  bash docs/gpu_check.sh
#
# Steps, each under `timeout`, the whole within DEADLINE seconds (default 420) whatever hangs:
#   env      nvidia-smi, CPU, Python / NumPy / Numba / CuPy / CUDA / NVRTC versions
#   install  pip install -e . without network or precompiling; if that fails, the source tree through a
#            generated sitecustomize.py (btflearn.kernels, .tasks and .cli live in kernels/, tasks/, cli/)
#   device   does CuPy see a CUDA device? If not, says why and stops here (exit 1), unless
#            GPU_CHECK_ANYWAY is set (to try the later steps on a machine without a GPU)
#   numba    compiles the float64 Numba kernels once (the steps below load them)
#   pytest   tests/test_cuda_device.py (the kernels on the GPU, NVRTC's default and --fmad=false)
#            and tests/test_cuda_math.py (the CPU build of the same source)
#   bench    2x2, 3x3, 4x4, 5x5: Numba rows, then CuPy rows with one trial and a batch of restarts in
#            both launch layouts (trial, grid), each with its ratio to the best Numba row
#   solve    the 4x4 to a verified solution on the GPU as `btflearn solve multiplier --bits 4` runs it
#            (its default split and settings), seeds SEEDS_4X4 (0-2), each stopped at an equal share
#            of its time; then (solve1) the one network of --split none, seeds 0 and 1
# Output in $OUT (default /tmp/gpu_out), 8 files:
#   00_summary.txt      per step: exit status, seconds, budget
#   01_env.txt          versions and the install log
#   02_pytest.txt       the test run
#   03_deviations.json  the largest deviation of every device-vs-reference comparison
#   04_bench.txt        bench rows as text    05_bench.json       the same rows as JSON
#   06_solve4x4.txt     per-seed progress     07_solve4x4.json    the solve row as JSON
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
ROOT=$PWD
OUT="${OUT:-/tmp/gpu_out}"
DEADLINE="${DEADLINE:-420}"   # seconds for the whole script
SEEDS_4X4="${SEEDS_4X4:-0-2}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT" || exit 2
SUMMARY="$OUT/00_summary.txt"
ENVLOG="$OUT/01_env.txt"
: > "$SUMMARY"
: > "$ENVLOG"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/btf_gpu_check.XXXXXX") || exit 2
trap 'rm -rf "$WORK"; rm -f "$OUT"/*.tmp' EXIT

export PYTHONUNBUFFERED=1                        # logs stay complete when a step is cut short
export CUPY_CACHE_DIR="$WORK/cupy_cache"         # NVRTC output, shared by the steps
export BTFLEARN_CUDA_REPORT="$OUT/03_deviations.json"
[[ -z "${GPU_CHECK_ANYWAY:-}" ]] && export BTFLEARN_CUDA_TESTS=device   # no silent CPU stand-in
START=$SECONDS
FAILED=()

note() { echo "$*" | tee -a "$SUMMARY"; }

# step NAME BUDGET LOG CMD...: CMD under timeout (at most BUDGET seconds and what the deadline leaves),
# output appended to LOG and shown; a line in the summary. Returns CMD's status (124: timed out).
step() {
    local name=$1 budget=$2 log=$3 left t0 rc flag=""
    shift 3
    left=$((DEADLINE - (SECONDS - START) - 8))
    if ((left < 5)); then
        note "$(printf '%-8s skipped: the deadline (%d s) is reached' "$name" "$DEADLINE")"
        return 124
    fi
    ((budget > left)) && budget=$left
    t0=$SECONDS
    echo "== $name ($(date -u +%H:%M:%S) UTC, at most ${budget} s): $*" | tee -a "$log"
    timeout -k 5 "$budget" "$@" 2>&1 | tee -a "$log"
    rc=${PIPESTATUS[0]}
    ((rc == 124 || rc == 137)) && flag="  TIMED OUT"
    ((rc != 0)) && [[ $name != install* ]] && FAILED+=("$name")
    note "$(printf '%-8s rc %3d  %4d s  (budget %d s)%s' "$name" "$rc" $((SECONDS - t0)) "$budget" "$flag")"
    return "$rc"
}

CLI=("$PY" -c "from btflearn.cli.main import main; main()")   # the same installed or from the tree

# ------------------------------------------------------------------------------------------ env
cat > "$WORK/env.py" <<'EOF'
import platform, sys
print("python", sys.version.split()[0], platform.platform())
for name in ("numpy", "numba", "click", "pytest", "setuptools", "cupy"):
    try:
        print(name, getattr(__import__(name), "__version__", "?"))
    except Exception as exc:
        print(name, "does not import:", type(exc).__name__, exc)
try:
    import cupy
    rt = cupy.cuda.runtime
    print("CUDA runtime", rt.runtimeGetVersion(), "driver", rt.driverGetVersion(), "devices", rt.getDeviceCount())
    p = rt.getDeviceProperties(0)
    name = p["name"].decode() if isinstance(p["name"], bytes) else p["name"]
    print("device 0:", name, "cc %d.%d" % (p["major"], p["minor"]), "SMs", p["multiProcessorCount"],
          "memory %.0f GiB" % (p["totalGlobalMem"] / 2**30))
    from cupy.cuda import nvrtc
    print("NVRTC", nvrtc.getVersion())
except Exception as exc:
    print("cupy/CUDA:", type(exc).__name__, exc)
EOF
cat > "$WORK/env.sh" <<EOF
nvidia-smi || echo "nvidia-smi: not available"
nvcc --version 2>/dev/null | tail -2
echo "CPU:\$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), \$(nproc) cores"
free -g | head -2
"$PY" "$WORK/env.py"
EOF
step env 30 "$ENVLOG" bash "$WORK/env.sh"

# -------------------------------------------------------------------------------------- install
importable() { (cd "$WORK" && "$PY" -c "import btflearn.kernels.cuda, btflearn.cli.main, btflearn.tasks"); }
# no network, no build isolation; no Numba precompile at install (it would compile float32 too: the
# numba step compiles what the checks use)
PIP=(env BTFLEARN_NO_PRECOMPILE=1 "$PY" -m pip install --no-deps --no-build-isolation --no-index -e .)
if [[ -n "${GPU_CHECK_NO_INSTALL:-}" ]]; then
    note "install  skipped (GPU_CHECK_NO_INSTALL)"
elif ! step install 60 "$ENVLOG" "${PIP[@]}"; then
    step install2 60 "$ENVLOG" "${PIP[@]}" --break-system-packages   # an externally managed Python
fi
if ! importable >> "$ENVLOG" 2>&1; then
    # btflearn from the source tree: btflearn.kernels, .tasks and .cli live in kernels/, tasks/, cli/
    mkdir -p "$WORK/pypath"
    cat > "$WORK/pypath/sitecustomize.py" <<EOF
# written by docs/gpu_check.sh: import btflearn from $ROOT without installing it
import importlib.abc, importlib.util, sys
_FOLDERS = {"btflearn.kernels": "$ROOT/kernels", "btflearn.tasks": "$ROOT/tasks", "btflearn.cli": "$ROOT/cli"}
class _SourceTree(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        folder = _FOLDERS.get(name)
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(name, folder + "/__init__.py",
                                                      submodule_search_locations=[folder])
sys.meta_path.insert(0, _SourceTree())
EOF
    export PYTHONPATH="$WORK/pypath:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
    if ! importable >> "$ENVLOG" 2>&1; then
        note "btflearn imports neither installed nor from the source tree (01_env.txt says why): stopping"
        exit 2
    fi
    note "btflearn from the source tree (PYTHONPATH and a generated sitecustomize.py)"
fi

# ------------------------------------------------------------------------------------------- device
if ! step device 30 "$ENVLOG" "$PY" -c '
import sys
from btflearn.backends import cupy_problem
problem = cupy_problem()
print("CUDA device: " + ("present" if problem is None else "NONE: " + problem))
sys.exit(problem is not None)'; then
    if [[ -z "${GPU_CHECK_ANYWAY:-}" ]]; then
        note "no usable CUDA device through CuPy (01_env.txt says why): pytest, bench and solve need one; stopping"
        exit 1
    fi
    note "no usable CUDA device; GPU_CHECK_ANYWAY: going on (the cupy steps will fail)"
fi

# -------------------------------------------------------------------------------------------- numba
step numba 60 "$ENVLOG" "$PY" -c '
from btflearn.precompile import precompile
precompile(("float64",))'

# ------------------------------------------------------------------------------------------- pytest
step pytest 100 "$OUT/02_pytest.txt" "$PY" -m pytest -q --maxfail=10 --tb=short -rfEs --durations=10 \
    -p no:cacheprovider tests/test_cuda_device.py tests/test_cuda_math.py

# -------------------------------------------------------------------------------------------- bench
step bench 140 "$OUT/04_bench.txt" "${CLI[@]}" bench --problems 2x2,3x3,4x4,5x5 --backends numba,cupy \
    --cuda-layouts trial,grid --dtypes float64 --seconds 1 --bandwidth-mb 0 --solve-seeds "" \
    --json-out "$OUT/05_bench.json"

# -------------------------------------------------------------------------------------------- solve
n_seeds=$("$PY" -c "from btflearn.grid import parse_seeds; print(len(parse_seeds('$SEEDS_4X4')))" 2>/dev/null || echo 4)
budget=$((DEADLINE - (SECONDS - START) - 8))
((budget > 75)) && budget=75
per_seed=$(((budget - 25) / n_seeds))   # the rest: start-up, compiling, the read-outs
if ((per_seed < 10)); then
    note "solve    skipped: $budget s left for $n_seeds seeds"
else
    step solve "$budget" "$OUT/06_solve4x4.txt" "${CLI[@]}" bench --problems "" --backends cupy --solve-seeds "" \
        --solve-4x4-seeds "$SEEDS_4X4" --solve-backends cupy --solve-time-limit "$per_seed" \
        --bandwidth-mb 0 --json-out "$OUT/07_solve4x4.json"
fi
# the one network for all 256 facts (--split none), where a GPU has more to do per iteration
budget=$((DEADLINE - (SECONDS - START) - 8))
if ((budget > 40)); then
    step solve1 "$budget" "$OUT/06_solve4x4.txt" "$PY" -c "
import json
from btflearn.bench import time_to_solution
from btflearn.tasks import multiplier_spec
row = time_to_solution('4x4', [0, 1], dict(multiplier_spec(4, split=[]).settings(), time_limit=$(((budget - 20) / 2))),
                       backend='cupy', progress=lambda *a: print('seed %d: solved %s, %.1f s, %d iterations' % a))
print(json.dumps(row))"
fi

note "done in $((SECONDS - START)) s; ${#FAILED[@]} step(s) failed${FAILED[*]:+: ${FAILED[*]}}"
rm -f "$OUT"/*.tmp
ls -l "$OUT" | tee -a "$SUMMARY"
((${#FAILED[@]} == 0))
