#!/usr/bin/env bash
# Compiles every source file of Parley's src/ with clang, syntax only, with
# clang's thread-safety analysis and warnings as errors: the lock contracts written as
# annotations (core/thread_annotations.hpp: GUARDED_BY, REQUIRES, …) are checked by the
# compiler. Uses the flags of the main build (build/compile_commands.json; scripts/build.sh
# makes it). No objects are written, so it takes a fraction of a build.
#   usage: scripts/check-thread-safety.sh [build-dir] [path-substring]  (e.g. build src/realtime/)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
clangxx=$(command -v clang++ || true)
if [ -z "$clangxx" ]; then
  echo "check-thread-safety: clang++ not found (apt-get install clang)" >&2
  exit 1
fi
python3 - "$build/compile_commands.json" "$clangxx" "${2:-}" <<'PY' | xargs -0 -n 1 -P "$(nproc)" bash -c
import json, shlex, sys
entries = json.load(open(sys.argv[1]))
clang = sys.argv[2]
only = sys.argv[3]
seen = set()
for e in entries:
    f = e["file"]
    if f in seen or "/src/" not in f or "/build/" in f or only not in f:
        continue
    seen.add(f)
    args = shlex.split(e["command"])[1:]
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-c"):
            skip = True
            continue
        if a.startswith("-O") or a == "-g" or a.startswith("-fuse-ld"):
            continue
        out.append(a)
    cmd = [clang] + out + ["-fsyntax-only", "-Wthread-safety", "-Werror", f]
    sys.stdout.write("cd %s && %s\0" % (shlex.quote(e["directory"]), " ".join(shlex.quote(c) for c in cmd)))
PY
echo "thread-safety: clean"
