#!/usr/bin/env bash
# Every GPU check in one call (a lent device gives minutes, not hours).
#
# First, alone on the card (their seconds are the results): the training-step speed
# variants (bench_speed.py) and whole fits by size (bench_sizes.py, the GPU column of
# docs/which_method.md). Then, together until the deadline (their results are PSNRs;
# seconds measured there are shared-card seconds): the CUDA tests (pytest -m gpu),
# the paper run in float32 against bfloat16 (bench_paper_run.py, compile on), the 256²
# replication grid on coins and grass and the INRR-vs-early-stopping study at 256² with
# 10,001 steps (its fits cached in OUT/cache_es, read back by a second call).
# Logs and pages go under OUT; everything is packed into OUT/results.tgz (and copied
# to $COPY_TO, if set) every 20 s, so a run stopped early keeps what it finished.
#
# Usage:  bash benchmarks/gpu_suite.sh OUT [SECONDS] [STAGE ...]
#   STAGE: speed sizes tests paper replication early_stop (default: all)
# Smoke run on CPU:  DEVICE=cpu SIZE=32 STEPS=200 FIT_SIZES=32 TABLES=500x10 SEEDS=0 \
#                     bash benchmarks/gpu_suite.sh /tmp/out 300
set -u
out=${1:?usage: gpu_suite.sh OUT [SECONDS] [STAGE ...]}
budget=${2:-560}
shift $(($# < 2 ? $# : 2))
stages=" ${*:-speed sizes tests paper replication early_stop} "
device=${DEVICE:-cuda}
size=${SIZE:-256}
steps=${STEPS:-10001}
fit_sizes=${FIT_SIZES:-128 256 512 1024}
tables=${TABLES:-10000x20 100000x50}
seeds=${SEEDS:-0 1 2}
start=$(date +%s)
mkdir -p "$out/docs/figures" "$out/cache_es"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 MPLBACKEND=Agg

left() { echo $((budget - ($(date +%s) - start))); }
wanted() { [[ $stages == *" $1 "* ]]; }
pack() {
    tar czf "$out/results.tmp.tgz" -C "$out" docs cache_es $(cd "$out" && ls ./*.log 2>/dev/null) \
        && mv "$out/results.tmp.tgz" "$out/results.tgz"
    [ -n "${COPY_TO:-}" ] && cp "$out/results.tgz" "$COPY_TO/" 2>/dev/null
    return 0
}
run_capped() { # run_capped NAME CAP_SECONDS COMMAND... (in the foreground)
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
    echo "== $name: exit $? after $(($(date +%s) - s))s"
    tail -n 25 "$out/$name.log"
    pack
}

{
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv || true
    python3 -c "import sys, torch, sklearn, numpy; print(sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda, 'sklearn', sklearn.__version__, 'numpy', numpy.__version__)"
} >>"$out/env.log" 2>&1
# The package needs scikit-learn >= 1.6: carried as a wheel in .whl/ when the image's is older.
if ! python3 -c "import sklearn, sys; v = tuple(map(int, sklearn.__version__.split('.')[:2])); sys.exit(v < (1, 6))"; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/scikit_learn-*.whl >>"$out/env.log" 2>&1
    export PYTHONPATH=/tmp/site:$PYTHONPATH
    echo "installed the carried scikit-learn wheel" >>"$out/env.log"
fi
cat "$out/env.log"

# Alone on the card: timings.
wanted speed && run_capped speed 125 python3 benchmarks/bench_speed.py --device "$device" \
    --size "$size" --steps 30 --budget 95 --docs "$out/docs"
wanted sizes && run_capped sizes 170 python3 benchmarks/bench_sizes.py --device "$device" \
    --steps 10 --recipe-sizes $fit_sizes --inrr-fit-sizes $fit_sizes \
    --inrr-fit-tables $tables --blend-tables $tables --docs "$out/docs"

# Together until the deadline: quality.
deadline=$(($(left) - 15))
pids=()
background() { # background NAME COMMAND...
    local name=$1
    shift
    if ((deadline < 30)); then
        echo "== $name: skipped (${deadline}s left)"
        return 0
    fi
    echo "== $name (in the background, at most ${deadline}s): $*"
    timeout "$deadline" "$@" >"$out/$name.log" 2>&1 &
    pids+=($!)
}
if wanted tests && [ "$device" = cuda ]; then
    background tests python3 -m pytest -p no:cacheprovider -o addopts= -m gpu -q tests/test_gpu.py
fi
wanted paper && background paper python3 benchmarks/bench_paper_run.py --device "$device" \
    --size "$size" --max-iter "$steps" --images camera --precision float32 bfloat16 \
    --params '{"compile": true}' --tag gpu256_camera_bf16 --docs "$out/docs"
wanted replication && background replication python3 benchmarks/bench_replication.py \
    --device "$device" --size "$size" --images coins grass --tag cuda256_coins_grass \
    --n-jobs 6 --docs "$out/docs" --methods \
    inr inr+l2 inr+tv inr+air inr+inrr dmf dmf+air dmf+inrr blend biharmonic telea ns
wanted early_stop && background early_stop python3 benchmarks/study_inrr_early_stopping.py \
    --size "$size" --max-iter "$steps" --seeds $seeds --n-jobs 5 --tag gpu256 \
    --cache "$out/cache_es" --docs "$out/docs"
while [ ${#pids[@]} -gt 0 ] && kill -0 "${pids[@]}" 2>/dev/null; do
    sleep 20
    pack
    echo "== at $(($(date +%s) - start))s: $(ls "$out/cache_es" | wc -l) early-stop fits cached"
done
wait
for name in tests paper replication early_stop; do
    [ -f "$out/$name.log" ] && { echo "== $name:"; tail -n 25 "$out/$name.log"; }
done
echo "== done after $(($(date +%s) - start))s"
pack
ls -la "$out"
