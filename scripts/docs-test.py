"""Runs the shell examples of the README and docs/ exactly as printed, against a running local
stack (scripts/run-local.sh), and checks each one's output against the block printed after it.

The documentation's conventions, which this runner honours:
- Every ```sh block runs, in the page's order, in one bash session per page (a variable set
  in one block is there in the next), from the repository's root. A block fails if its last
  command does.
- A fenced block whose info string is `<language> output` (```json output, ```text output),
  right after a ```sh block, is what that block prints. It is compared with all whitespace
  removed (so JSON may be shown pretty-printed), and `…` stands for any text.
- `<!-- docs-test: skip (reason) -->` on the line before a ```sh block leaves it out: a
  command for AWS, a long benchmark, or one that runs until stopped.

Usage: python3 scripts/docs-test.py [--runs N] [PAGE ...]   (default: README.md and docs/*.md)
Prints one line per block and exits 1 if any block failed.
"""

import glob
import os
import re
import subprocess
import sys
import time

SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b")
FENCE = re.compile(r"^```(.*)$")


def blocks(path):
    """The page's fenced blocks: (line, info string, text, skipped)."""
    lines = open(path, encoding="utf-8").read().split("\n")
    found, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match or not match.group(1).strip():
            i += 1
            continue
        info, start = match.group(1).strip(), i
        skipped = start > 0 and SKIP.search(lines[start - 1]) is not None
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        found.append((start + 1, info, "\n".join(body), skipped))
        i += 1
    return found


def examples(path):
    """The page's ```sh blocks to run, each with the output printed after it (or None)."""
    found = blocks(path)
    runs = []
    for n, (line, info, text, skipped) in enumerate(found):
        if info != "sh" or skipped:
            continue
        expected = None
        if n + 1 < len(found) and found[n + 1][1].endswith(" output"):
            expected = found[n + 1][2]
        runs.append((line, text, expected))
    return runs


def matches(expected, actual):
    """Whether `actual` is `expected` up to whitespace, `…` matching any text."""
    squeeze = lambda text: re.sub(r"\s+", "", text)
    parts = [re.escape(part) for part in squeeze(expected).split("…")]
    return re.fullmatch(".*?".join(parts), squeeze(actual), re.S) is not None


def run_page(path):
    """Runs a page's examples in one bash session; returns (passed, failed)."""
    runs = examples(path)
    if not runs:
        return 0, 0
    script = []
    for n, (_, text, _) in enumerate(runs):
        script.append(f"echo '@@docs-test {n} start'")
        script.append("{\n" + text + "\n} 2>&1")
        # On a line of its own even after output without a final newline.
        script.append(f"__status=$?; echo; echo \"@@docs-test {n} end $__status\"")
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=os.path.dirname(os.path.abspath(__file__)) + "/..",
    )
    outputs, status, current, buffer = {}, {}, None, []
    for line in result.stdout.split("\n"):
        marker = re.fullmatch(r"@@docs-test (\d+) (start|end)(?: (\d+))?", line)
        if marker and marker.group(2) == "start":
            current, buffer = int(marker.group(1)), []
        elif marker:
            outputs[current], status[current] = "\n".join(buffer), int(marker.group(3))
            current = None
        elif current is not None:
            buffer.append(line)
    passed = failed = 0
    for n, (line, text, expected) in enumerate(runs):
        where = f"{path}:{line}"
        if n not in status:
            print(f"FAIL {where}: never finished\n{result.stderr[-2000:]}")
            failed += 1
            continue
        problem = None
        if status[n] != 0:
            problem = f"exit status {status[n]}"
        elif expected is not None and not matches(expected, outputs[n]):
            problem = "output differs from the page's"
        if problem:
            failed += 1
            print(f"FAIL {where}: {problem}\n--- ran:\n{text}\n--- printed:\n{outputs[n]}")
            if expected is not None:
                print(f"--- the page shows:\n{expected}")
        else:
            passed += 1
            checked = "output checked" if expected is not None else "ran"
            print(f"ok   {where} ({checked})")
    print(f"     {path}: {len(runs)} examples in {time.monotonic() - started:.1f} s")
    return passed, failed


def main():
    args = sys.argv[1:]
    runs = 1
    if args[:1] == ["--runs"]:
        runs, args = int(args[1]), args[2:]
    pages = args or ["README.md"] + sorted(glob.glob("docs/*.md"))
    passed = failed = 0
    for run in range(1, runs + 1):
        print(f"run {run}/{runs}")
        for page in pages:
            p, f = run_page(page)
            passed, failed = passed + p, failed + f
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
