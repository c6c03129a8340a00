#!/usr/bin/env bash
# Installs system packages, builds assist in release mode and pulls the default models.
# Safe to re-run: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libsqlite3-dev unzip python3-pip; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})) && command -v apt-get >/dev/null; then
    echo "== apt-get install ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== swift build -c release"
swift build -c release --product assist

export ASSIST_MODELS="${ASSIST_MODELS:-$HOME/.local/share/assist/models}"
for model in ${ASSIST_SETUP_MODELS:-smollm2-135m minilm-l6-v2 qwen2.5-coder-0.5b}; do
    .build/release/assist models pull "$model"
done
