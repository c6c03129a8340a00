#!/usr/bin/env bash
# The main job end to end on the sample data: set up, index the notes and the mailbox, search, ask, summarize.
# The demo index lives in its own file so it never mixes with your own.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
export ASSIST_DB="${ASSIST_DB:-${TMPDIR:-/tmp}/assist-demo/index.sqlite}"
assist=.build/release/assist

echo; echo "== assist index SampleData/notes SampleData/inbox.mbox"
$assist index SampleData/notes SampleData/inbox.mbox
echo; echo "== assist index (again: nothing changed, so nothing is read)"
$assist index SampleData/notes SampleData/inbox.mbox
echo; echo "== assist search \"where will the beta launch event be\""
$assist search "where will the beta launch event be" --limit 3
echo; echo "== assist ask \"What did we finally decide about the sync database?\""
$assist ask "What did we finally decide about the sync database?"
echo; echo "== assist summarize SampleData/inbox.mbox --since 2026-09-01"
$assist summarize SampleData/inbox.mbox --since 2026-09-01
echo; echo "== assist status"
$assist status
