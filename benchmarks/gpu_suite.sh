#!/usr/bin/env bash
# Every GPU check in one call (a lent device gives minutes, not hours): the CUDA tests,
# the training-step speed variants, the paper-shaped run (SIREN vs SIREN+INRR, 10,001
# steps, PSNR against the step) and the 256² replication grid with the classical peers.
# Each stage gets what is left of the budget (capped per stage), writes its log and
# results under OUT, and everything is packed into OUT/results.tgz after each stage,
# so a run stopped early keeps what it finished.
#
# Usage:  bash benchmarks/gpu_suite.sh OUT [SECONDS]
# Smoke run on CPU:  DEVICE=cpu SIZE=32 STEPS=200 bash benchmarks/gpu_suite.sh /tmp/out 300
set -u
out=${1:?usage: gpu_suite.sh OUT [SECONDS]}
budget=${2:-540}
device=${DEVICE:-cuda}
size=${SIZE:-256}
steps=${STEPS:-10001}
start=$(date +%s)
mkdir -p "$out/docs/figures"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 MPLBACKEND=Agg

left() { echo $((budget - ($(date +%s) - start))); }
pack() { tar czf "$out/results.tgz" -C "$out" docs $(cd "$out" && ls *.log 2>/dev/null); }
stage() { # stage NAME CAP_SECONDS COMMAND...
    local name=$1 cap=$2 t
    shift 2
    t=$(left)
    ((t > cap)) && t=$cap
    if ((t < 20)); then
        echo "== $name: skipped (${t}s left)"
        return 0
    fi
    echo "== $name (at most ${t}s): $*"
    local s=$(date +%s)
    timeout "$t" "$@" >"$out/$name.log" 2>&1
    local rc=$?
    echo "== $name: exit $rc after $(($(date +%s) - s))s"
    tail -n 30 "$out/$name.log"
    pack
    return $rc
}

{
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv || true
    python3 -c "import sys, torch, sklearn, numpy; print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'sklearn', sklearn.__version__, 'numpy', numpy.__version__)"
} >"$out/env.log" 2>&1
# The package needs scikit-learn >= 1.6: carried as a wheel in .whl/ when the image's is older.
if ! python3 -c "import sklearn, sys; v = tuple(map(int, sklearn.__version__.split('.')[:2])); sys.exit(v < (1, 6))"; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/scikit_learn-*.whl >>"$out/env.log" 2>&1
    export PYTHONPATH=/tmp/site:$PYTHONPATH
    echo "installed the carried scikit-learn wheel" >>"$out/env.log"
fi
cat "$out/env.log"

params='{}'
if [ "$device" = cuda ]; then
    if ! stage pytest_gpu 90 python3 -m pytest -p no:cacheprovider -o addopts= -m gpu -q tests/test_gpu.py \
        && grep -q "FAILED.*graph" "$out/pytest_gpu.log"; then
        params='{"cuda_graph": false}' # graph capture is broken here: measure without it
        echo "== graph tests failed: later stages run with $params"
    fi
fi
stage speed 150 python3 benchmarks/bench_speed.py --device "$device" --size "$size" \
    --steps 30 --budget 100 --docs "$out/docs"
stage paper_camera 200 python3 benchmarks/bench_paper_run.py --device "$device" --size "$size" \
    --max-iter "$steps" --images camera --precision float32 tf32 --tag gpu256_camera \
    --params "$params" --docs "$out/docs"
stage replication 170 python3 benchmarks/bench_replication.py --device "$device" --size "$size" \
    --tag cuda256 --n-jobs 8 --params "$params" --docs "$out/docs" --methods \
    inr inr+l2 inr+tv inr+air inr+inrr dmf dmf+air dmf+inrr blend biharmonic telea ns
stage paper_astronaut 200 python3 benchmarks/bench_paper_run.py --device "$device" --size "$size" \
    --max-iter "$steps" --images astronaut --precision tf32 --tag gpu256_astronaut \
    --params "$params" --docs "$out/docs"
echo "== done after $(($(date +%s) - start))s"
pack
ls -la "$out"
