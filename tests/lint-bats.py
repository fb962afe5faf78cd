#!/usr/bin/env python3
"""Reject bats checks that cannot fail (meson test "lint-bats", unit suite).

bats runs a test body under errexit, and bash's errexit ignores:
  - `! cmd` anywhere but as the last command of the test: write `run -1 cmd`,
    `run ! cmd` or `[ -z "$(cmd)" ]`;
  - every check of an `a && b` list but the last: one check a line;
and `wait_until test -z "$(cmd)"` expands `$(cmd)` once, before wait_until runs, so it
never polls: give wait_until a function that runs the check.

Usage: lint-bats.py DIR...   (every *.bats and *.bash below DIR)
       lint-bats.py --self-test   (each rule rejects a sample and accepts its fix)
"""
import os
import re
import sys

BANG = re.compile(r"^\s*!\s")
# A test line made only of checks joined by &&: `[ a ] && [ b ]`, `[[ a ]] && grep -q b f`.
CHECK = r"(\[\[?\s|test\s|grep\s|cmp\s)"
AND_CHAIN = re.compile(r"^\s*" + CHECK + r".*(\]|\S)\s&&\s+" + CHECK)
WAIT_UNTIL = re.compile(r"(^|[;&|({]\s*|\s)wait_until\s(?P<args>.*)$")
SINGLE_QUOTED = re.compile(r"'[^']*'")


def logical_lines(text):
    """(first line number, text) with backslash-continued lines joined."""
    buf, start = "", None
    for n, line in enumerate(text.splitlines(), 1):
        if start is None:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        yield start, buf + line
        buf, start = "", None
    if start is not None:
        yield start, buf


def problems(text):
    out = []
    for n, line in logical_lines(text):
        code = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        if not code.strip():
            continue
        if BANG.match(code):
            out.append((n, "`! cmd` cannot fail a bats test (errexit ignores it): "
                           "use `run -1 cmd`, `run ! cmd` or a [ ... ] check"))
        # `a && b || echo missing` (a script that reports) and `a && break` are fine
        if (AND_CHAIN.match(code) and not re.search(r"&&\s*(break|return|continue)\b", code)
                and not re.search(r"\|\|\s*echo\b", code)):
            out.append((n, "only the last check of an && list can fail the test: "
                           "one check a line"))
        m = WAIT_UNTIL.search(code)
        if m:
            args = SINGLE_QUOTED.sub("''", m.group("args"))
            if "$(" in args or "`" in args:
                out.append((n, "wait_until gets $(...) expanded once, so it never polls: "
                               "pass a function that runs the check"))
    return out


SAMPLES = [  # (bad, good)
    ('  ! grep -q x "$f"\n  true\n', '  run -1 grep -q x "$f"\n  true\n'),
    ('  ! awk 1 f | grep -q .\n', '  run -0 awk 1 f\n  [ -z "$output" ]\n'),
    ('  [ ! -e a ] && [ ! -e b ]\n', '  [ ! -e a ]\n  [ ! -e b ]\n'),
    ('  [[ -d $d ]] && grep -q x f\n', '  test -d /a && test -d /b || echo missing\n'),
    ('  wait_until test -z "$(leftovers)" || true\n', '  wait_until no_leftovers || true\n'),
    ('  wait_until test -n \\\n    "$(pid1 "$P")"\n', '  wait_until has_pid1 "$P"\n'),
    ('  x; wait_until test -n `pid1`\n',
     "  wait_until bash -c '[[ -n $(rrun port web) ]]'\n"),
]


def self_test():
    ok = True
    for bad, good in SAMPLES:
        if not problems(bad):
            print("self-test: not rejected:\n" + bad, file=sys.stderr)
            ok = False
        if problems(good):
            print("self-test: rejected though fine:\n" + good, file=sys.stderr)
            ok = False
    return ok


def main(argv):
    if argv == ["--self-test"]:
        return 0 if self_test() else 1
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    if not self_test():
        return 1
    found = 0
    files = 0
    for top in argv:
        for root, _, names in os.walk(top):
            for name in sorted(names):
                if not name.endswith((".bats", ".bash")):
                    continue
                path = os.path.join(root, name)
                files += 1
                with open(path, encoding="utf-8") as f:
                    for n, msg in problems(f.read()):
                        print(f"{path}:{n}: {msg}")
                        found += 1
    if files == 0:
        print("lint-bats: no *.bats or *.bash files under " + " ".join(argv), file=sys.stderr)
        return 1
    print(f"lint-bats: {files} files, {found} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
