"""Fails when schemathesis reports an operation whose generated inputs the service mostly
rejects ("Schema validation mismatch") that is not reviewed in fuzz/reviewed-rejections.txt.
Usage: check_rejections.py REPORT REVIEWED"""

import re
import sys


def mostly_rejected(report):
    """The operations of the report's "Schema validation mismatch" warning."""
    found, inside = [], False
    for line in report.splitlines():
        if line.startswith("Schema validation mismatch:"):
            inside = True
            continue
        if inside:
            match = re.match(r"^\s+- ([A-Z]+ \S+)\s*$", line)
            if match:
                found.append(match.group(1))
            elif found and not line.strip():
                break
    return found


def reviewed(text):
    """`METHOD PATH: reason` lines; # starts a comment."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        operation, _, reason = line.partition(": ")
        if not reason.strip():
            sys.exit(f"{operation}: a reviewed exception needs its reason")
        out[operation.strip()] = reason.strip()
    return out


def main(report_path, reviewed_path):
    with open(report_path, encoding="utf-8") as f:
        found = mostly_rejected(f.read())
    with open(reviewed_path, encoding="utf-8") as f:
        known = reviewed(f.read())
    unreviewed = [op for op in found if op not in known]
    for op in found:
        if op in known:
            print(f"reviewed: {op}: {known[op]}")
    for op in sorted(set(known) - set(found)):
        print(f"note: {op} is reviewed but no longer mostly rejected; drop it from {reviewed_path}")
    if unreviewed:
        print("operations whose generated inputs are mostly rejected, not reviewed:", file=sys.stderr)
        for op in unreviewed:
            print(f"  {op}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
