"""Attachment reading: files/s, MB/s, reader memory and fidelity per format, beside bare
``pdftotext`` on the SAME PDFs.

    python bench/attachments.py [--copies 100] [--others 5] [--no-hostile] [--quick]

The files are ``fixture_sites.attachment_files.attachment_set`` (realistic 政府网站 attachments with
their true text): the PDFs of ``--copies`` seeds (4 a seed, 2–5 pages each: about 2 MB at 100),
every other format of ``--others`` seeds. Each file is read, one at a time, through
``spiders.attachment_text.read_text`` (a process with limits forked by the reader process
started once, and one ``pdftotext -htmlmeta`` for a PDF); the families it does not read yet are
listed, not measured. Beside it, on the same PDFs in the same run, bare ``pdftotext FILE -`` (one process a
file, no limits, no page count or title): run before and after ours, the baseline is their mean
(the machine is shared and noisy).

Per format: files/s, MB/s (of the files' bytes), the peak RSS of the reader processes (each
format read by a new, small process of its own, whose ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is
the largest process it waited for: the worker or a tool the worker ran; "floor" is that
launcher's own peak, which an exec'd tool inherits as its minimum on Linux) and the mean token
F1 against the truth (``normalizers.fidelity``). Then the ratio of our PDF MB/s to pdftotext's and both F1s,
and unless ``--no-hostile`` what each hostile file cost (the test's limits: 5 s CPU, 10 s wall,
512 MiB). Prints a table and one JSON line. ``--quick``: 2 copies, 1 seed of the others, no
hostile files (a smoke run of a few seconds).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fixture_sites.attachment_files import FixtureFile, attachment_set  # noqa: E402
from normalizers.fidelity import token_f1  # noqa: E402
from spiders.attachment_text import READABLE, Limits, read_text  # noqa: E402

HOSTILE_LIMITS = Limits(cpu_seconds=5, wall_seconds=10, memory_bytes=512 * 1024 * 1024)
Job = tuple[str, str, str | None]  # path, family, truth


def build(folder: Path, copies: int, others: int) -> tuple[dict[str, list[Job]], list[tuple[str, str, bool]]]:
    """The files on disk, by format (``pdf``, ``pdf (scanned)``, ``rtf``…), and the hostile ones."""
    formats: dict[str, list[Job]] = {}
    hostile: list[tuple[str, str, bool]] = []
    for seed in range(max(copies, others)):
        for n, fixture in enumerate(attachment_set(seed)):
            is_pdf = fixture.family == "pdf" and fixture.kind == "digital"
            if not (seed < copies if is_pdf else seed < others):
                continue
            path = folder / f"{seed:04d}-{n:02d}-{fixture.name}"
            if fixture.kind == "hostile":
                if seed == 0:
                    _write(path, fixture)
                    hostile.append((str(path), fixture.family, fixture.endless))
                continue
            _write(path, fixture)
            key = fixture.family if fixture.kind == "digital" else f"{fixture.family} ({fixture.kind})"
            formats.setdefault(key, []).append((str(path), fixture.family, fixture.truth))
    return formats, hostile


def _write(path: Path, fixture: FixtureFile) -> None:
    if fixture.endless:
        os.mkfifo(path)  # nobody writes: a download that never ends
    else:
        path.write_bytes(fixture.data)


MEASURE = r"""
import json, resource, subprocess, sys, time
jobs, bare = json.load(sys.stdin), sys.argv[1] == "bare"
if not bare:
    from pathlib import Path
    from spiders.attachment_text import _close_all, read_text
texts, statuses = [], []
started = time.monotonic()
for path, family in jobs:
    if bare:
        done = subprocess.run(["pdftotext", path, "-"], capture_output=True, check=False)
        texts.append(done.stdout.decode("utf-8", "replace"))
        statuses.append("ok" if done.returncode == 0 else "error")
    else:
        result = read_text(Path(path), family)
        texts.append(result.text)
        statuses.append(result.status)
seconds = time.monotonic() - started
if not bare:
    _close_all()  # the reader process (the zygote) waited for: its peak, and its children's, count
json.dump({"seconds": seconds, "texts": texts, "statuses": statuses,
           "children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
           # the launcher's own peak since its exec (RUSAGE_SELF would include its parent's, see below)
           "self_kib": int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))},
          sys.stdout)
"""


def measure(jobs: list[Job], *, bare: bool = False) -> dict[str, object]:
    """Read every file in a new, small process (bare: ``python -I -S``, the standard library only;
    ours: only ``spiders.attachment_text`` imported), its time after its imports, the peak RSS of
    the processes it ran (``RUSAGE_CHILDREN``) and the F1 of each text.

    Linux keeps a process's high-water RSS across ``exec``, so a tool counts at least as large
    as the process that started it was: hence the small launchers (their own peak, ``VmHWM``, is
    printed as the floor of the figure)."""
    python = [sys.executable, "-I", "-S"] if bare else [sys.executable]
    done = subprocess.run([*python, "-c", MEASURE, "bare" if bare else "ours"], cwd=REPO, capture_output=True,
                          input=json.dumps([[path, family] for path, family, _ in jobs]).encode(), check=False)
    if done.returncode != 0:
        raise SystemExit(f"the measuring process failed:\n{done.stderr.decode(errors='replace')[-3000:]}")
    run = json.loads(done.stdout)
    f1s = [token_f1(text, truth) for text, (_, _, truth) in zip(run["texts"], jobs, strict=True) if truth is not None]
    statuses: dict[str, int] = {}
    for status in run["statuses"]:
        statuses[status] = statuses.get(status, 0) + 1
    size = sum(os.path.getsize(path) for path, _, _ in jobs)
    seconds = max(run["seconds"], 1e-9)
    return {"files": len(jobs), "mb": size / 1e6, "seconds": seconds, "files_per_s": len(jobs) / seconds,
            "mb_per_s": size / 1e6 / seconds, "peak_rss_mib": run["children_kib"] / 1024,
            "launcher_rss_mib": run["self_kib"] / 1024, "mean_f1": statistics.fmean(f1s) if f1s else None,
            "statuses": statuses}


def hostile_costs(files: list[tuple[str, str, bool]]) -> list[dict[str, object]]:
    costs = []
    for path, family, _ in files:
        result = read_text(Path(path), family, HOSTILE_LIMITS)
        costs.append({"file": Path(path).name[8:], "status": result.status, "seconds": round(result.seconds, 2),
                      "error": result.error})
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=100, help="seeds of the PDFs (4 PDFs a seed)")
    parser.add_argument("--others", type=int, default=5, help="seeds of every other format")
    parser.add_argument("--no-hostile", action="store_true", help="skip the hostile files (about 15 s)")
    parser.add_argument("--quick", action="store_true", help="2 copies, 1 seed of the others, no hostile files")
    args = parser.parse_args()
    if args.quick:
        args.copies, args.others, args.no_hostile = 2, 1, True
    if shutil.which("pdftotext") is None:
        raise SystemExit("pdftotext is not installed (./bootstrap.sh installs poppler-utils)")
    folder = Path(tempfile.mkdtemp(prefix="blgw-bench-attachments-"))
    try:
        formats, hostile = build(folder, args.copies, args.others)
        pdfs = formats.get("pdf", [])
        bare_before = measure(pdfs, bare=True)
        ours = {key: measure(jobs) for key, jobs in sorted(formats.items()) if jobs[0][1] in READABLE}
        bare_after = measure(pdfs, bare=True)
        costs = [] if args.no_hostile else hostile_costs(hostile)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    unread = sorted(key for key, jobs in formats.items() if jobs[0][1] not in READABLE)
    bare = dict(bare_before)
    for key in ("seconds", "files_per_s", "mb_per_s", "peak_rss_mib", "launcher_rss_mib"):
        bare[key] = (float(bare_before[key]) + float(bare_after[key])) / 2  # type: ignore[arg-type]

    print(f"{'format':<22}{'files':>6}{'MB':>8}{'files/s':>9}{'MB/s':>8}{'peak RSS':>10}{'(floor)':>9}"
          f"{'mean F1':>9}  statuses")
    for key, run in [*ours.items(), ("pdftotext (bare)", bare)]:
        f1 = run["mean_f1"]
        print(f"{key:<22}{run['files']:>6}{run['mb']:>8.2f}{run['files_per_s']:>9.2f}{run['mb_per_s']:>8.3f}"
              f"{run['peak_rss_mib']:>8.1f} M{run['launcher_rss_mib']:>7.1f} M"
              f"{'-' if f1 is None else format(f1, '.4f'):>9}  {run['statuses']}")
    if unread:
        print(f"not read yet (no reader for the family): {', '.join(unread)}")
    summary: dict[str, object] = {"bench": "attachments", "copies": args.copies, "others": args.others,
                                  "formats": ours, "pdftotext": bare, "unread": unread, "hostile": costs}
    if "pdf" in ours:
        ratio = float(ours["pdf"]["mb_per_s"]) / float(bare["mb_per_s"])  # type: ignore[arg-type]
        summary["pdf_mb_per_s_ratio"] = ratio
        print(f"PDF: ours {ours['pdf']['mb_per_s']:.3f} MB/s, bare pdftotext {bare['mb_per_s']:.3f} MB/s "
              f"(before {bare_before['mb_per_s']:.3f}, after {bare_after['mb_per_s']:.3f}): ratio {ratio:.2f}; "
              f"F1 ours {ours['pdf']['mean_f1']:.4f}, pdftotext {bare['mean_f1']:.4f}")
    for cost in costs:
        print(f"hostile {cost['file']}: {cost['status']} after {cost['seconds']} s: {cost['error']}")
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
