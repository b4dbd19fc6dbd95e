"""What every bench script shares: the machine line, timing, peak memory, the results table.

A result row is a dict with the keys of :data:`ROW_KEYS`:

===========  =====================================================================
key          meaning
===========  =====================================================================
``figure``   what is measured, e.g. ``"(b) 1,000 raters x 200: time"``
``ours``     PairCal's number (float, in ``unit``), or None
``baseline`` the same figure for the baseline in the same run, or None
``ratio``    ``ours / baseline`` (below 1: ours is faster), or None
``target``   the target as text (``"< 2 s"``), or ``""`` when there is none
``met``      True / False against the target; None when there is no target
``unit``     ``"s"``, ``"MiB"``, ``"KiB"``, ``"x"``, ...
``notes``    how it was measured, in a few words
``section``  ``"main"`` (targets of the issue) or ``"breakdown"`` (where the time goes)
===========  =====================================================================

``--json OUT`` writes the list of rows; ``bench/run_all.py`` assembles them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROW_KEYS = ["figure", "ours", "baseline", "ratio", "target", "met", "unit", "notes", "section"]
ROOT = Path(__file__).resolve().parent.parent


def row(
    figure: str,
    ours: float | None,
    *,
    unit: str,
    baseline: float | None = None,
    target: str = "",
    met: bool | None = None,
    notes: str = "",
    section: str = "main",
) -> dict:
    """One result row; ``ratio`` is ``ours / baseline`` when both are known."""
    ratio = ours / baseline if ours is not None and baseline else None
    return {
        "figure": figure,
        "ours": ours,
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "met": met,
        "unit": unit,
        "notes": notes,
        "section": section,
    }


def parser(description: str | None) -> argparse.ArgumentParser:
    """The options every bench script takes: ``--quick``, ``--json OUT``, ``--repeat N``."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--quick", action="store_true", help="tiny sizes and one repeat: a smoke test, not a figure"
    )
    p.add_argument("--json", metavar="OUT", help="also write the rows as JSON to OUT")
    p.add_argument("--repeat", type=int, default=None, help="timed runs per figure (median reported)")
    return p


# --------------------------------------------------------------------------- machine


def machine() -> dict:
    """CPU model, cores, RAM, Python, OS and the load average when the figures were taken."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) / 2**20  # KiB -> GiB
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "ram_gib": ram,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "load_average": load,
    }


def machine_line(info: dict | None = None) -> str:
    m = info or machine()
    ram = f"{m['ram_gib']:.0f} GiB RAM" if m["ram_gib"] else "RAM unknown"
    load = f"; load average {m['load_average'][0]:.2f} at the start" if m["load_average"] else ""
    return (
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), {ram}, "
        f"{m['python']}, {m['os']}{load}."
    )


# --------------------------------------------------------------------------- measuring


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (Linux ``VmHWM``; else ``ru_maxrss``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def rss_mib() -> float:
    """Current resident set size of this process, MiB (Linux ``VmRSS``; NaN elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def in_child(
    script: Path, args: list[str], *, timeout: float | None = None, env: dict[str, str] | None = None
) -> dict:
    """Run ``script --child ARGS`` in a fresh Python process (``env``: its environment, default
    this one's); return the JSON dict it prints last."""
    done = subprocess.run(
        [sys.executable, str(script), "--child", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} --child {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- output


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        if value < 0.01:
            return f"{value * 1000:.2f} ms"
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "x":
        return f"{value:.1f}x"
    if unit in ("MiB", "KiB"):
        return f"{value:,.1f} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{value:,.4g} {unit}".strip()


def _ratio(r: dict) -> str:
    if r["ratio"] is None:
        return "-"
    text = f"{r['ratio']:.3f}"
    if r["unit"] == "s" and r["ratio"] > 0:
        text += f" ({1 / r['ratio']:.1f}x faster)" if r["ratio"] < 1 else f" ({r['ratio']:.1f}x slower)"
    return text


def markdown(rows: list[dict], *, title: str = "") -> str:
    """The rows as a Markdown table: figure | ours | baseline | ratio | target | met?"""
    lines = [f"### {title}", ""] if title else []
    lines += [
        "| figure | ours | baseline | ratio | target | met? |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        met = "" if r["met"] is None else ("yes" if r["met"] else "**NO**")
        lines.append(
            f"| {r['figure']} | {_number(r['ours'], r['unit'])} | {_number(r['baseline'], r['unit'])} | "
            f"{_ratio(r)} | {r['target']} | {met} |"
        )
    notes = [f"- {r['figure']}: {r['notes']}" for r in rows if r["notes"]]
    return "\n".join(lines + ([""] + notes if notes else []))


def report(rows: list[dict], *, title: str, preamble: str, json_path: str | None) -> None:
    """Print the machine line and the tables (main, then breakdown); write JSON if asked."""
    print(machine_line())
    print(preamble)
    print()
    main = [r for r in rows if r["section"] == "main"]
    rest = [r for r in rows if r["section"] != "main"]
    print(markdown(main, title=title))
    if rest:
        print()
        print(markdown(rest, title=f"{title}: where the time goes"))
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=2) + "\n")
