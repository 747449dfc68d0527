#!/usr/bin/env python3
"""Per-rule finding counts on every repository of ../shared/corpus, as a Markdown table
(for docs/corpus.md):  python bench/corpus_counts.py [--profile strict]"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--profile", default="recommended")
    args = ap.parse_args()
    repos = sorted(p for p in args.corpus.iterdir() if p.is_dir())
    counts: dict[str, collections.Counter] = {}
    slugs: dict[str, str] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as cfg:
        cfg.write(f"extends: {args.profile}\n")
        cfg.flush()
        for repo in repos:
            out = subprocess.run([sys.executable, "-m", "gitlint_flux", "lint", "--format", "json", "--config",
                                  cfg.name, str(repo)], capture_output=True, text=True)
            data = json.loads(out.stdout)
            c = collections.Counter()
            for f in data["findings"]:
                c[f["rule"]] += 1
                slugs[f["rule"]] = f"{f['slug']} ({f['severity']})"
            counts[repo.name] = c
    rules = sorted(slugs)
    short = [r.name.split("+", 1)[1] for r in repos]
    print("| rule | " + " | ".join(short) + " |")
    print("|---|" + "---:|" * len(repos))
    for rule in rules:
        print(f"| {rule} {slugs[rule]} | " + " | ".join(str(counts[r.name].get(rule, 0) or "") for r in repos) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
