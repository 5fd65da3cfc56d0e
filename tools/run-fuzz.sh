#!/usr/bin/env bash
# Runs each libFuzzer target of build-fuzz for SECONDS (libFuzzer's -max_total_time) on its
# committed seed corpus and prints one line per target: executions, time, corpus size, result.
#
#   tools/run-fuzz.sh SECONDS [TARGET...]
#
# New interesting inputs go to build-fuzz/corpus/<name>/ (the committed seeds in fuzz/corpus/
# are only read); a crash leaves its input in build-fuzz/artifacts/ and makes the exit status 1.
# FUZZ_SEED=N fixes libFuzzer's seed (CI does, so its runs make the same inputs in the same order,
# as far as the time allows); unset, each run explores from a new seed.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=(idx quant_config importer sensitivity_table allocation project onnx_reader)

# LibTorch and Qt are not instrumented: container annotations would disagree across the
# boundary, and their one-time allocations are not leaks of ours (tools/lsan.supp says which).
# max_allocation_size_mb: one allocation over 4 GB comes back null (fuzz_importer's operator new
# then throws std::bad_alloc, as outside the sanitizer) instead of reaching libFuzzer's malloc limit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_container_overflow=0:detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=4096}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1

status=0
summary=()
for name in "${targets[@]}"; do
  exe=build-fuzz/fuzz/fuzz_$name
  [ -x "$exe" ] || { echo "run-fuzz: $exe is not built (make fuzz builds it)" >&2; exit 2; }
  work=build-fuzz/corpus/$name
  mkdir -p "$work" build-fuzz/artifacts build-fuzz/logs
  log=build-fuzz/logs/$name.log
  start=$(date +%s.%N)
  # 8 GB: LibTorch's loader keeps a little memory per damaged archive it gives up on (the leaks
  # tools/lsan.supp names), about 1.3 MB an input, so a minute of fuzz_importer passes 4 GB.
  "$exe" "$work" "fuzz/corpus/$name" -max_total_time="$seconds" -rss_limit_mb=8192 -timeout=30 \
      ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
      -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$name-" >"$log" 2>&1
  rc=$?
  elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  corpus=$(ls "$work" | wc -l)
  if [ "$rc" -eq 0 ]; then result=ok; else result="FOUND A PROBLEM (exit $rc; see $log)"; status=1; fi
  line=$(printf '%-18s %10s execs %7.1f s %6.0f exec/s  corpus %5d  %s' "$name" "${execs:-?}" "$elapsed" \
         "$(awk -v n="${execs:-0}" -v t="$elapsed" 'BEGIN { print n / t }')" "$corpus" "$result")
  echo "$line"
  summary+=("$line")
done
echo
echo "fuzz summary (${seconds} s per target):"
printf '  %s\n' "${summary[@]}"
exit $status
