#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# baseline-report.sh DIR: a Markdown table of a selftest run
# (tests/host/selftests.sh's DIR/results and DIR/results.reasons), for
# docs/selftest-baseline.md.  The "why" column holds the test's own words;
# the doc explains them.
set -euo pipefail
dir=${1:?usage: baseline-report.sh DIR}
printf '| test | result | time | what the test said |\n'
printf '|------|--------|-----:|--------------------|\n'
while read -r name st code secs; do
	why=
	[ "$st" = pass ] || why=$(grep -m1 -F "$name:" "$dir/results.reasons" |
		cut -d: -f2- | sed 's/^ //; s/|/\\|/g' | cut -c1-140)
	printf '| `%s` | %s | %ss | %s |\n' "$name" "$st" "$secs" "$why"
done <"$dir/results"
printf '\n'
for st in pass skip fail timeout; do
	printf '%s: %d  ' "$st" "$(awk -v s="$st" '$2 == s' "$dir/results" | wc -l)"
done
printf '\n'
