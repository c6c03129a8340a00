#!/usr/bin/env bash
# Builds the libFuzzer targets under Fuzz/Targets/<Name>/main.swift into Fuzz/.build/<Name>.
#
# The main package is left alone: our module sources (Ingest, Inference) are compiled here with
# `-sanitize=fuzzer,address` (coverage instrumentation + AddressSanitizer), their C dependencies (Yams'
# libyaml, CKernels) are compiled plainly with clang, and each target is linked against them with libFuzzer,
# which ships with the Swift toolchain.
#
#   Fuzz/build.sh            builds every target
#   Fuzz/build.sh Mail       builds one target (and the libraries it needs)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/.build"
mkdir -p "$out"

swiftc="${SWIFTC:-swiftc}"
clang="${CLANG:-$(dirname "$(command -v "$swiftc")")/clang}"
sanitize=(-sanitize=fuzzer,address)
# -O keeps the fuzzers fast; -g gives readable stack traces in crash reports.
swiftflags=(-O -g -parse-as-library -I "$out")

yams="$root/.build/checkouts/Yams/Sources"
if [ ! -d "$yams" ]; then
    echo "Yams sources not found at $yams; run 'swift package resolve' in $root first" >&2
    exit 1
fi

# True when $1 is missing or older than any file in the remaining arguments.
stale() {
    local target="$1"; shift
    [ -e "$target" ] || return 0
    [ -n "$(find "$@" -newer "$target" -print -quit 2>/dev/null)" ]
}

build_yams() {
    local lib="$out/libYams.a"
    stale "$lib" "$yams" || return 0
    echo "building Yams (libyaml + Swift wrapper)"
    local objs="$out/cyaml"; mkdir -p "$objs"
    for c in "$yams"/CYaml/src/*.c; do
        "$clang" -O2 -c "$c" -I "$yams/CYaml/include" -DYAML_DECLARE_STATIC -o "$objs/$(basename "$c" .c).o"
    done
    "$swiftc" -O -parse-as-library -D SWIFT_PACKAGE -Xcc -DYAML_DECLARE_STATIC -module-name Yams -emit-module -emit-module-path "$out/Yams.swiftmodule" \
        -emit-library -static -o "$out/libYamsSwift.a" -I "$yams/CYaml/include" "$yams"/Yams/*.swift
    rm -f "$lib"
    cp "$out/libYamsSwift.a" "$lib"
    ar rcs "$lib" "$objs"/*.o
}

build_ingest() {
    build_yams
    local lib="$out/libIngest.a"
    stale "$lib" "$root/Sources/Ingest" "$out/libYams.a" || return 0
    echo "building Ingest (instrumented)"
    "$swiftc" "${swiftflags[@]}" "${sanitize[@]}" -module-name Ingest -emit-module \
        -emit-module-path "$out/Ingest.swiftmodule" -emit-library -static -o "$lib" \
        -I "$yams/CYaml/include" "$root"/Sources/Ingest/*.swift
}

build_ckernels() {
    local lib="$out/libCKernels.a"
    stale "$lib" "$root/Sources/CKernels" || return 0
    echo "building CKernels"
    local objs="$out/ckernels"; mkdir -p "$objs"
    for c in "$root"/Sources/CKernels/*.c; do
        "$clang" -O3 -c "$c" -I "$root/Sources/CKernels/include" -o "$objs/$(basename "$c" .c).o"
    done
    rm -f "$lib"
    ar rcs "$lib" "$objs"/*.o
    # SwiftPM makes the module map of a C target; here we write it.
    mkdir -p "$out/ckernels-module"
    printf 'module CKernels {\n    umbrella header "%s"\n    export *\n}\n' \
        "$root/Sources/CKernels/include/CKernels.h" > "$out/ckernels-module/module.modulemap"
}

build_inference() {
    build_ckernels
    local lib="$out/libInference.a"
    stale "$lib" "$root/Sources/Inference" || return 0
    echo "building Inference (instrumented)"
    local extra=()
    [ "$(uname -m)" = x86_64 ] && extra=(-Xcc -msha -Xcc -msse4.1)
    "$swiftc" "${swiftflags[@]}" "${sanitize[@]}" "${extra[@]}" -module-name Inference -emit-module \
        -emit-module-path "$out/Inference.swiftmodule" -emit-library -static -o "$lib" \
        -I "$out/ckernels-module" "$root"/Sources/Inference/*.swift "$root"/Sources/Inference/*/*.swift
}

# Which module a target fuzzes.
module_of() {
    case "$1" in
        Mail|Markdown|Gzip) echo Ingest ;;
        GGUF|Safetensors|Tokenizers) echo Inference ;;
        *) echo "unknown fuzz target: $1" >&2; exit 2 ;;
    esac
}

build_target() {
    local name="$1" module
    module="$(module_of "$name")"
    local main="$here/Targets/$name/main.swift" exe="$out/$name"
    local libs=()
    case "$module" in
        Ingest) build_ingest; libs=(-L "$out" -lIngest -lYams -I "$yams/CYaml/include") ;;
        Inference) build_inference; libs=(-L "$out" -lInference -lCKernels -I "$out/ckernels-module") ;;
    esac
    stale "$exe" "$main" "$out/lib$module.a" || return 0
    echo "linking $name"
    "$swiftc" "${swiftflags[@]}" "${sanitize[@]}" -module-name "Fuzz$name" "$main" "${libs[@]}" -o "$exe" \
        2> >(grep -v "Cannot export local symbol '__asan" >&2)
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(Mail Markdown Gzip GGUF Safetensors Tokenizers)
for t in "${targets[@]}"; do build_target "$t"; done
