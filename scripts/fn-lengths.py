#!/usr/bin/env python3
"""Function lengths in Rust sources: median, p90, max, and every function over a limit.

Counts the lines from a function's `fn` line to its closing brace, inclusive. Functions inside
`#[cfg(test)]` modules are left out (tests are measured by what they check, not their length).
Usage: scripts/fn-lengths.py [--over N] [paths...]   (default: src, crates, migrations/src)
"""
import os
import re
import statistics
import sys

FN = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+"[^"]*"\s+)?fn\s+(\w+)')


def strip(line):
    # Drop string/char literals and line comments so their braces do not count.
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])'", "''", line)
    return line.split('//', 1)[0]


def functions(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    out = []
    test_depth = None  # brace depth at which a #[cfg(test)] module started
    depth = 0
    pending_test = False
    i = 0
    while i < len(lines):
        raw = lines[i]
        code = strip(raw)
        if '#[cfg(test)]' in code:
            pending_test = True
        if pending_test and re.match(r'^\s*(pub\s+)?mod\s+\w+\s*\{', code):
            test_depth = depth
            pending_test = False
        m = FN.match(code)
        if m and test_depth is None:
            # Find the body: the first '{' before a ';' (a declaration without a body has none).
            j, d, started = i, 0, False
            while j < len(lines):
                c = strip(lines[j])
                for ch in c:
                    if ch == ';' and not started and d == 0:
                        break
                    if ch == '{':
                        d += 1
                        started = True
                    elif ch == '}':
                        d -= 1
                if started and d == 0:
                    break
                if not started and ';' in c:
                    break
                j += 1
            if started:
                out.append((j - i + 1, f'{path}:{i + 1} {m.group(7)}'))
        depth += code.count('{') - code.count('}')
        if test_depth is not None and depth <= test_depth:
            test_depth = None
        i += 1
    return out


def main():
    args = sys.argv[1:]
    over = 60
    if args[:1] == ['--over']:
        over = int(args[1])
        args = args[2:]
    roots = args or [r for r in ('src', 'crates', 'migrations/src') if os.path.exists(r)]
    found = []
    for root in roots:
        for dirpath, _, files in os.walk(root):
            if 'target' in dirpath.split(os.sep):
                continue
            for f in files:
                if f.endswith('.rs'):
                    found += functions(os.path.join(dirpath, f))
    lengths = sorted(n for n, _ in found)
    if not lengths:
        print('no functions found')
        return
    p90 = lengths[int(0.9 * (len(lengths) - 1))]
    print(f'functions {len(lengths)}  median {statistics.median(lengths)}  p90 {p90}  max {lengths[-1]}')
    long = sorted((x for x in found if x[0] > over), reverse=True)
    print(f'over {over} lines: {len(long)}')
    for n, where in long:
        print(f'  {n:4} {where}')


if __name__ == '__main__':
    main()
