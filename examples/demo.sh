#!/usr/bin/env bash
# A whole day of a coffee roulette on the embedded default (SQLite file + local maildir outbox).
# Safe to run again: it reuses what an earlier run created.
set -euo pipefail
sessionctl="${SESSIONCTL:-sessionctl}"

if ! "$sessionctl" program show demo-coffee >/dev/null 2>&1; then
  "$sessionctl" program add demo-coffee --tz Europe/Paris --title "Demo coffee" \
    --sender coffee@example.com
fi
"$sessionctl" member import demo-coffee - <<'CSV'
email,name,team
ana@example.com,Ana Lima,design
bob@example.com,Bob Stone,platform
chloe@example.com,Chloé Martin,design
dev@example.com,Dev Patel,sales
CSV
"$sessionctl" member list demo-coffee
