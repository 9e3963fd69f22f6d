#!/usr/bin/env python3
"""Summarizes one `meson test` run (its testlog JSON) as
`LABEL: N passed, N failed (...)`, counting doctest test cases inside each binary and one result for
every other test. Exits 1 when anything failed or when nothing ran at all."""
import json
import re
import sys

path, label = sys.argv[1], sys.argv[2]
passed = failed = skipped = 0
tags = set()
problems = []
try:
    with open(path, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
except OSError as e:
    print(f"{label}: 0 passed, 1 failed (no test log: {e})")
    sys.exit(1)

doctest_re = re.compile(r"\[doctest\] test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed \|\s*(\d+) skipped")
for r in records:
    out = (r.get("stdout") or "") + (r.get("stderr") or "")
    ok = r.get("result") in ("OK", "EXPECTEDFAIL")
    m = doctest_re.search(out)
    for t in re.findall(r"\[tessera\] kernels ran for tags: (.*)", out):
        tags.update(t.split())
    if m:
        p, f, s = int(m.group(2)), int(m.group(3)), int(m.group(4))
        if not ok and f == 0:
            f = 1  # crashed or timed out after doctest's summary
        passed += p
        failed += f
        skipped += s
    else:
        if ok:
            passed += 1
        elif r.get("result") == "SKIP":
            skipped += 1
        else:
            failed += 1
    if not ok:
        problems.append(f"{r.get('name')}={r.get('result')}")

note = f"tags ran: {' '.join(sorted(tags)) or 'none'}"
if skipped:
    note += f"; {skipped} skipped"
if problems:
    note += "; " + ", ".join(problems)
if passed == 0:
    failed = max(failed, 1)
    note += "; NOTHING RAN"
print(f"{label}: {passed} passed, {failed} failed ({note})")
sys.exit(1 if failed else 0)
