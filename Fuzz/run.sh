#!/usr/bin/env bash
# Runs one libFuzzer target for a while:  Fuzz/run.sh TARGET SECONDS [extra libFuzzer flags…]
#
# TARGET is one of Mail, Markdown, Gzip, GGUF, Safetensors, Tokenizers. Builds the target when needed
# (Fuzz/build.sh), generates the seed corpus when missing (Fuzz/make-seeds.py), then fuzzes in one process
# under `nice`, growing the working corpus in Fuzz/corpus/TARGET and writing any crashing, slow or
# memory-hungry input to Fuzz/crashes/TARGET/. Both folders and the seeds stay out of git.
# Reproduce a crash with:  Fuzz/.build/TARGET Fuzz/crashes/TARGET/crash-…
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET SECONDS [libFuzzer flags…]   (targets: Mail Markdown Gzip GGUF Safetensors Tokenizers)" >&2
    exit 2
fi
target="$1"
seconds="$2"
shift 2
here="$(cd "$(dirname "$0")" && pwd)"

"$here/build.sh" "$target"
[ -d "$here/seeds/$target" ] || python3 "$here/make-seeds.py"

corpus="$here/corpus/$target"
crashes="$here/crashes/$target"
mkdir -p "$corpus" "$crashes"

# Swift's own crash handler fights AddressSanitizer for the faulting thread; let the sanitizer report.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}"

# -rss_limit_mb and -malloc_limit_mb turn runaway allocations into reported "out-of-memory" inputs;
# -timeout (seconds per input) turns hangs into reported "timeout" inputs.
exec nice "$here/.build/$target" "$corpus" "$here/seeds/$target" \
    -max_total_time="$seconds" \
    -artifact_prefix="$crashes/" \
    -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
    -print_final_stats=1 "$@"
