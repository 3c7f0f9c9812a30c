#!/usr/bin/python3
"""Writes the benchmarks' figures as a Markdown page with plots (tests/bench/run.sh --report DIR).
Reads DIR/bench.txt (the BENCH lines of one run) and DIR/samples/*.txt (raw latency samples in
ms, one per line, written by the benchmarks that keep them); writes DIR/README.md and its PNGs:
every figure measured beside a reference (BIRD, GoBGP, `ip -batch`, host-local, raw etcd puts)
as bars side by side, every latency distribution as a CDF, and every BENCH line in a table.
Needs Debian's python3-matplotlib. Usage: report.py DIR"""
import glob
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

NUMBER = re.compile(r"^(-?[0-9.]+)([A-Za-z/%]*)$")


def parse(path):
    """[(name, {field: (value, unit) or text})] from the BENCH lines."""
    out = []
    for line in open(path, encoding="utf-8"):
        words = line.split()
        if len(words) < 2 or words[0] != "BENCH":
            continue
        fields = {}
        for w in words[2:]:
            if "=" not in w:
                fields[w] = w  # "met", "MISSED"
                continue
            k, v = w.split("=", 1)
            m = NUMBER.match(v)
            fields[k] = (float(m.group(1)), m.group(2)) if m else v
        out.append((words[1], fields))
    return out


def compared(fields):
    """[(label, value, unit)] of a line's figures that have a reference beside them: "ours" with
    "ref", and each "X" with its "ref_TOOL_X" (latency lines)."""
    numeric = {k: v for k, v in fields.items() if isinstance(v, tuple)}
    rows = []
    if "ours" in numeric and "ref" in numeric:
        rows += [("blockd", *numeric["ours"]), ("reference", *numeric["ref"])]
    for k, v in numeric.items():
        if k in ("ours", "ref") or k.startswith("ref"):
            continue
        refs = [(r[4:-len(k) - 1], rv) for r, rv in numeric.items() if r.startswith("ref_") and r.endswith("_" + k)]
        if refs:
            rows.append((f"blockd {k}", *v))
            rows += [(f"{tool} {k}", *rv) for tool, rv in refs]
    return rows


def side_by_side(figures, folder):
    """One bar chart per line with a reference: blockd's figure beside each reference's."""
    charts = []
    for name, fields in figures:
        rows = compared(fields)
        if not rows:
            continue
        fig, ax = plt.subplots(figsize=(5, 0.6 + 0.4 * len(rows)))
        labels = [r[0] for r in rows]
        ax.barh(labels, [r[1] for r in rows], color=["#1f77b4" if x.startswith("blockd") else "#aaaaaa" for x in labels])
        ax.set_xlabel(rows[0][2] or "value")
        ax.set_title(name, fontsize=9)
        ax.invert_yaxis()
        fig.tight_layout()
        png = f"bar_{name}.png"
        fig.savefig(os.path.join(folder, png), dpi=90)
        plt.close(fig)
        charts.append((name, png))
    return charts


def latency_cdfs(folder):
    """One CDF per raw sample file (ms), a reference's ("NAME_ref_TOOL") on its figure's plot."""
    files = sorted(glob.glob(os.path.join(folder, "samples", "*.txt")))
    groups = {}
    for path in files:
        name = os.path.basename(path)[:-4]
        base, _, tool = name.partition("_ref_")
        groups.setdefault(base, []).append((tool or "blockd", path))
    charts = []
    for base, members in groups.items():
        fig, ax = plt.subplots(figsize=(5, 3))
        for label, path in members:
            xs = sorted(float(x) for x in open(path, encoding="utf-8") if x.strip())
            if xs:
                ax.plot(xs, [(i + 1) / len(xs) for i in range(len(xs))], drawstyle="steps-post",
                        label=f"{label} ({len(xs)})")
        ax.set_xlabel("ms")
        ax.set_ylabel("fraction of samples")
        ax.set_title(base, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        png = f"cdf_{base}.png"
        fig.savefig(os.path.join(folder, png), dpi=90)
        plt.close(fig)
        charts.append((base, png))
    return charts


def cell(v):
    return f"{v[0]:g}{v[1]}" if isinstance(v, tuple) else str(v)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py DIR")
    folder = sys.argv[1]
    figures = parse(os.path.join(folder, "bench.txt"))
    if not figures:
        sys.exit(f"report: no BENCH lines in {folder}/bench.txt")
    bars, cdfs = side_by_side(figures, folder), latency_cdfs(folder)
    md = ["# blockd benchmarks", "",
          "One run of `tests/bench/run.sh` (timings on a shared machine are noisy; compare the ratios, "
          "each taken beside its reference in the same run).", ""]
    if bars:
        md += ["## Against the references", ""]
        md += [f"![{name}]({png})" for name, png in bars] + [""]
    if cdfs:
        md += ["## Latency distributions", ""]
        md += [f"![{name}]({png})" for name, png in cdfs] + [""]
    md += ["## Every figure", "", "| benchmark | figures |", "|---|---|"]
    md += [f"| {name} | {' '.join(f'{k}={cell(v)}' if k != v else v for k, v in fields.items())} |" for name, fields in figures]
    with open(os.path.join(folder, "README.md"), "w", encoding="utf-8") as out:
        out.write("\n".join(md) + "\n")
    print(f"report: {folder}/README.md ({len(figures)} figures, {len(bars)} comparisons, {len(cdfs)} CDFs)")


if __name__ == "__main__":
    main()
