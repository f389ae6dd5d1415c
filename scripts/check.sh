#!/usr/bin/env bash
# Formats and lints the Swift sources with the committed .swift-format; fails when a file is not
# formatted (the diff is printed) or a lint rule is broken. `scripts/check.sh --fix` rewrites.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${1:-}" = "--fix" ]; then
  swift format format --in-place --recursive --parallel Sources Tests Package.swift
  exit 0
fi

status=0
while IFS= read -r -d '' file; do
  if ! swift format format "$file" | diff -u --label "$file" --label "$file (formatted)" "$file" - ; then
    status=1
  fi
done < <(find Sources Tests -name '*.swift' -print0; printf 'Package.swift\0')
if ! swift format lint --strict --recursive --parallel Sources Tests Package.swift; then
  status=1
fi
if grep -rnE 'try!|as! ' Sources --include='*.swift'; then
  echo "check: try! and as! are not allowed in Sources/" >&2
  status=1
fi
[ $status -eq 0 ] && echo "check: formatting and lint clean"
exit $status
