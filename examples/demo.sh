#!/usr/bin/env bash
# A whole round of a coffee roulette on the embedded default: SQLite file + local maildir outbox.
# A program, members, a round opened now, a few answers, the match, the planning and the
# messages in the maildir. Safe to run again: it reuses the program and adds a new round.
set -euo pipefail
sessionctl="${SESSIONCTL:-sessionctl}"
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
else
  say() { printf '\n$ %s\n' "$*"; }
fi

if ! "$sessionctl" program show demo-coffee >/dev/null 2>&1; then
  say sessionctl program add demo-coffee --tz Europe/Paris
  "$sessionctl" program add demo-coffee --tz Europe/Paris --title "Demo coffee" \
    --sender coffee@example.com
fi

say sessionctl member import demo-coffee members.csv
"$sessionctl" member import demo-coffee - <<'CSV'
email,name,team
ana@example.com,Ana Lima,design
bob@example.com,Bob Stone,platform
chloe@example.com,Chloé Martin,design
dev@example.com,Dev Patel,sales
CSV

match=$(python3 -c 'import datetime as d; print((d.date.today() + d.timedelta(days=3)).isoformat() + " 09:00")')
say sessionctl schedule demo-coffee --opt-in now --match "\"$match\""
round=$("$sessionctl" schedule demo-coffee --opt-in now --match "$match" --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
echo "round $round scheduled"

say sessionctl run-due            # sends the opt-in emails
"$sessionctl" run-due

say sessionctl respond "$round" ...   # three join, one skips
"$sessionctl" respond "$round" ana@example.com yes
"$sessionctl" respond "$round" bob@example.com yes
"$sessionctl" respond "$round" chloe@example.com yes
"$sessionctl" respond "$round" dev@example.com no

say sessionctl update "$round" --match now
"$sessionctl" update "$round" --match now

say sessionctl run-due            # forms the groups and sends the match emails
"$sessionctl" run-due

say sessionctl groups "$round"
"$sessionctl" groups "$round"
say sessionctl show "$round"
"$sessionctl" show "$round"
say sessionctl planning demo-coffee --weeks 2
"$sessionctl" planning demo-coffee --weeks 2
say sessionctl messages "$round"
"$sessionctl" messages "$round"

outbox="$(python3 -c 'import platformdirs; print(platformdirs.user_data_path("sessionctl", appauthor=False) / "outbox")' 2>/dev/null || true)"
if [ -n "$outbox" ] && [ -d "$outbox/new" ]; then
  echo
  echo "The emails are in the Maildir $outbox ($(ls "$outbox/new" | wc -l) files); any mail client reads them."
fi
