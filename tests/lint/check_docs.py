#!/usr/bin/env python3
"""Documentation that must agree with the code, checked on every test run.

- docs/PROTOCOL.md section 14 lists exactly the status codes of common/err.h.
- docs/PROTOCOL.md section 8's message table lists exactly the types of common/msg.h.
Prints TAP.
"""
import re
import sys


def status_codes(root):
    err = open(f"{root}/common/err.h", encoding="utf-8").read()
    code = {(int(n), name[2:], text) for name, n, text in
            re.findall(r'X\((E_\w+), (\d+), "([^"]+)"\)', err)}
    doc = open(f"{root}/docs/PROTOCOL.md", encoding="utf-8").read()
    section = doc[doc.index("## 14. Status codes"):]
    documented = {(int(n), name, text) for n, name, text in
                  re.findall(r"^\| (\d+) \| (\w+) \| ([^|]+?) \|$", section, re.M)}
    documented.discard((0, "OK", "success"))
    return code, documented


def message_types(root):
    hdr = open(f"{root}/common/msg.h", encoding="utf-8").read()
    code = {(int(c, 16), name) for _, c, name in
            re.findall(r'X\((MSG_\w+), (0x[0-9a-fA-F]+), "([^"]+)"\)', hdr)}
    doc = open(f"{root}/docs/PROTOCOL.md", encoding="utf-8").read()
    section = doc[doc.index("## 8. Message encoding"):doc.index("## 9. Messages")]
    documented = {(int(c, 16), name) for c, name in
                  re.findall(r"^\| (0x[0-9a-f]{4}) \| ([A-Z0-9 ]+?) \|", section, re.M)}
    return code, documented


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    failed = 0
    for n, (name, fn) in enumerate([("status codes: PROTOCOL.md section 14 == err.h", status_codes),
                                    ("message types: PROTOCOL.md section 8 == msg.h", message_types)], 1):
        code, documented = fn(root)
        if code == documented and code:
            print(f"ok {n} - {name}")
            continue
        failed += 1
        print(f"not ok {n} - {name}")
        for row in sorted(code - documented):
            print(f"#   in code, not in the doc: {row}")
        for row in sorted(documented - code):
            print(f"#   in the doc, not in code: {row}")
    print("1..2")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
