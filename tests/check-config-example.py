#!/usr/bin/env python3
"""Every key src/config.c reads is in docs/rrun.conf (commented, under its group) and in
docs/rrun.conf.5.md, and the example names no key rrun does not read. TAP output."""
import re
import sys

src, example, manpage = sys.argv[1:4]
code = open(src).read()
keys = set(re.findall(r'take_(?:string|bool|list)\s*\(\s*kf,\s*"([^"]+)",\s*"([^"]+)"', code))
group = None
in_example = set()
for line in open(example):
    m = re.match(r'\[(\w+)\]', line)
    if m:
        group = m.group(1)
    m = re.match(r'#(\w+)=', line)
    if m:
        in_example.add((group, m.group(1)))
page = open(manpage).read()
print("1..3")
missing = sorted(keys - in_example)
print(("ok" if keys and not missing else "not ok") + " 1 docs/rrun.conf has every key config.c reads"
      + "".join("\n# missing: [%s] %s" % k for k in missing))
extra = sorted(in_example - keys)
print(("ok" if not extra else "not ok") + " 2 docs/rrun.conf has no key config.c ignores"
      + "".join("\n# unknown: [%s] %s" % k for k in extra))
undocumented = sorted(k for k in keys if "**%s=" % k[1] not in page)
print(("ok" if not undocumented else "not ok") + " 3 rrun.conf(5) describes every key"
      + "".join("\n# undocumented: [%s] %s" % k for k in undocumented))
