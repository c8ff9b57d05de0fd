#!/usr/bin/env python3
"""Module dependency check for src/: import circles between top-level modules (and between the files
of services/ and web/), and imports pointing up the layers.

Layers, lowest first: domain < db, email, sms, storage, raster, pdf, question_banks, roster_files, export < services
< rooms, jobs < web < startup, cli. A module may use its own layer or lower ones.
Usage: scripts/module-deps.py   (exit status 1 when a circle or an upward import is found)
"""
import os
import re
import sys

LAYER = {
    'i18n': 0, 'domain': 0,
    'config': 1, 'db': 1, 'email': 1, 'sms': 1, 'raster': 1, 'pdf': 1, 'question_banks': 1,
    'roster_files': 1, 'export': 1, 'telemetry': 1, 'storage': 1,
    'services': 2,
    'rooms': 3, 'jobs': 3,
    'web': 4,
    'startup': 5, 'cli': 5, 'main': 5, 'lib': 5,
}
USE = re.compile(r'crate::(\w+)(?:::(\w+))?')


def module_of(path):
    rel = os.path.relpath(path, 'src')
    parts = rel[:-3].split(os.sep)
    top = parts[0]
    sub = parts[1] if len(parts) > 1 and parts[1] != 'mod' else None
    return top, sub


def main():
    edges = {}
    upward = []
    for dirpath, _, files in os.walk('src'):
        for f in files:
            if not f.endswith('.rs') or 'bin' in dirpath.split(os.sep):
                continue
            path = os.path.join(dirpath, f)
            top, sub = module_of(path)
            code = open(path, encoding='utf-8').read()
            # Unit tests may reach anywhere.
            code = code.split('#[cfg(test)]')[0]
            # Comments may name any module.
            code = '\n'.join(l for l in code.split('\n') if not l.lstrip().startswith('//'))
            # `super::x` from a file directly under a top-level module is that module's `x`.
            if sub and path.count(os.sep) == 2 and not path.endswith('mod.rs'):
                for m in re.finditer(r'\bsuper::(\w+)', code):
                    if m.group(1) != sub and os.path.exists(os.path.join('src', top, m.group(1) + '.rs')) or \
                            os.path.isdir(os.path.join('src', top, m.group(1))):
                        edges.setdefault(f'{top}::{sub}', set()).add(f'{top}::{m.group(1)}')
            for m in USE.finditer(code):
                target, target_sub = m.group(1), m.group(2)
                if target not in LAYER or target == top:
                    if target == top and sub and target_sub and target_sub != sub:
                        edges.setdefault(f'{top}::{sub}', set()).add(f'{top}::{target_sub}')
                    continue
                edges.setdefault(top, set()).add(target)
                if LAYER.get(target, 0) > LAYER.get(top, 0):
                    upward.append(f'{path}: {top} (layer {LAYER.get(top)}) uses {target} (layer {LAYER[target]})')
    circles = set()
    for a, outs in edges.items():
        for b in outs:
            if a in edges.get(b, set()) and a < b:
                circles.add(f'{a} <-> {b}')
    for c in sorted(circles):
        print('circle:', c)
    for u in sorted(set(upward)):
        print('upward:', u)
    print(f'{len(circles)} circles, {len(set(upward))} upward imports')
    sys.exit(1 if circles or upward else 0)


if __name__ == '__main__':
    main()
