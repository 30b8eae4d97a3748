"""The packer's commands at scale (1k / 10k / 30k assets), run as a user runs them.

    .venv/bin/python bench/scale.py [--sizes 1000,10000[,30000]] [--runs R] [--keep DIR]
    .venv/bin/python bench/scale.py --project PATH [--runs R]

Projects: bench/build.py's `generate_project` with small inputs (`--bytes-per-asset`, default
2,500, so each input is 1-4 KB): all registered, 55% raw, 30% sound banks (2 WAVs), 15% glyph
banks (8 PNG tiles + a palette), inputs aged outside the build cache's racy window. Each size is
generated once into a folder keyed by both generators' versions (under --keep, default the system
temp dir) and reused. `--project PATH` runs on any project instead; it is never touched: every
command runs on a copy in a temp folder (so do generated projects, so each run starts alike).

Each command runs as a subprocess of the `prometeu-packer` console script beside this Python, as a
user would; each timing is wall-clock from spawn to exit, best of --runs (the line's comment gives
min / median / max). Printed, one `name: value` per line, per size label (1k, 10k, 30k, or
`project`): `assets_<L>`, `list_s_<L>` (`list --json`), `doctor_cold_s_<L>` (the first `doctor`
on a fresh copy), `doctor_s_<L>` (again: what a user pays on each later run),
`doctor_workspace_s_<L>` (`doctor --workspace`), `build_full_s_<L>` (`build --no-cache`, which
encodes in one process per core), `build_full_cpu_s_<L>` (its user + system time, every process),
`build_noop_s_<L>` (`build` right after a build), `build_one_change_s_<L>` (`build` after one raw
input's bytes changed), and the floors measured in this process on the same files, warm page
cache, best of --runs:
- floor_list_s: walk assets/ (scandir), stat every file, parse every asset.json (json);
- floor_build_s: floor_list plus read + xxh3_128 of every other file, then write as many bytes
  as one file beside the project and fsync it.
Ratios: `list_vs_floor` and `doctor_workspace_vs_floor` = the command / (floor_list + startup_s);
`build_vs_floor` = build_full / (floor_build + startup_s) (any command pays one process start,
which no in-process floor does); `one_change_vs_full_ratio` = build_one_change / build_full;
`growth_1k_10k_<command>` = the command at 10k / at 1k (when both sizes run; 10× the assets, so
linear is ≈ 10); `peak_rss_kb_per_asset` = (peak RSS of `build --no-cache` − that of the same
command on a one-asset project, the interpreter and its imports) / assets.
`startup_s`: `prometeu-packer --version`. Each ratio with a target (docs: issue 10) is marked
against it, at the size the target is set for (10k; 30k for memory).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import xxhash


def _load_bench(name: str) -> ModuleType:
    """bench/NAME.py, by path (a package named `build` may be installed too)."""
    spec = importlib.util.spec_from_file_location(
        f"prometeu_bench_{name}", Path(__file__).resolve().parent / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench_build = _load_bench("build")
compile_packages = _load_bench("installed").compile_packages

SCALE_GENERATOR_VERSION = 1  # this file's use of the generator (sizes, bytes per asset)
COMMANDS = ("list", "doctor", "doctor_workspace", "build_full", "build_noop", "build_one_change")
# name -> (limit, size label the target is set for); "≤" targets only.
TARGETS: dict[str, tuple[float, str]] = {
    "list_vs_floor": (5, "10k"),
    "doctor_workspace_vs_floor": (8, "10k"),
    "build_vs_floor": (4, "10k"),
    "one_change_vs_full_ratio": (0.1, "10k"),
    "peak_rss_kb_per_asset": (8, "30k"),
}
GROWTH_TARGET = 11.0


@dataclass(frozen=True)
class Run:
    seconds: float
    exit_code: int
    peak_rss_kb: int
    cpu_s: float = 0.0  # user + system, its encoding children's included (wait4)


def packer_command() -> list[str]:
    script = Path(sys.executable).parent / "prometeu-packer"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "packer.cli.main"]


def run_packer(args: Sequence[str], timeout: float) -> Run:
    """One `prometeu-packer` process: wall time, exit code and its own peak RSS (wait4)."""
    start = time.perf_counter()
    process = subprocess.Popen([*packer_command(), *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            os.wait4(process.pid, 0)
            raise SystemExit(f"prometeu-packer {' '.join(args)} took more than {timeout} s")
        time.sleep(0.002)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode not in (0, 1):
        raise SystemExit(f"prometeu-packer {' '.join(args)} exited {process.returncode}:\n"
                         f"{stderr}")
    return Run(seconds, process.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)


def load_average() -> str:
    """The machine's load (1, 5, 15 min) as /proc/loadavg gives it: the figures depend on it."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def label_of(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def generated_project(keep: Path, size: int, bytes_per_asset: int) -> Path:
    folder = keep / (f"prometeu-bench-scale-v{SCALE_GENERATOR_VERSION}"
                     f"g{bench_build.GENERATOR_VERSION}-{size}-{bytes_per_asset}")
    marker = folder / "generated"
    if not marker.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"# generating {size} assets into {folder}", file=sys.stderr, flush=True)
        bench_build.generate_project(folder / "project", assets=size,
                                     total_bytes=size * bytes_per_asset)
        marker.write_text("ok")
    return folder / "project"


def working_copy(project: Path, scratch: Path) -> Path:
    """A copy (mtimes kept) that commands may write to; the original is never touched."""
    target = scratch / "project"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(project, target, symlinks=True)
    return target


def count_assets(project: Path) -> int:
    registry = project / "assets" / ".prometeu" / "index.json"
    try:
        registered = len(json.loads(registry.read_text(encoding="utf-8"))["assets"])
    except (OSError, ValueError, KeyError, TypeError):
        registered = 0
    anchors = sum(1 for _dir, _subdirs, files in os.walk(project / "assets")
                  if "asset.json" in files)
    return max(registered, anchors)


def walk_stat_parse(assets: Path) -> tuple[list[tuple[str, int]], int]:
    """The list floor: every file under assets/ (but .prometeu/) stat'ed, each asset.json
    parsed. Returns the other files (path, size) for the build floor, and the anchors parsed."""
    others: list[tuple[str, int]] = []
    anchors = 0
    stack = [str(assets)]
    while stack:
        directory = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name == ".prometeu" and directory == str(assets):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                size = entry.stat(follow_symlinks=False).st_size
                if entry.name == "asset.json":
                    with open(entry.path, "rb") as handle:
                        json.loads(handle.read())
                    anchors += 1
                else:
                    others.append((entry.path, size))
    return others, anchors


def floor_list(project: Path) -> float:
    start = time.perf_counter()
    walk_stat_parse(project / "assets")
    return time.perf_counter() - start


def floor_build(project: Path, scratch: Path) -> float:
    start = time.perf_counter()
    others, _anchors = walk_stat_parse(project / "assets")
    total = 0
    for path, _size in others:
        with open(path, "rb", buffering=0) as handle:
            data = handle.read()
        xxhash.xxh3_128(data).digest()
        total += len(data)
    block = os.urandom(1 << 20)
    fd = os.open(scratch / "floor.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for offset in range(0, total, len(block)):
            os.write(fd, block[:min(len(block), total - offset)])
        os.fsync(fd)
    finally:
        os.close(fd)
    seconds = time.perf_counter() - start
    (scratch / "floor.bin").unlink()
    return seconds


def best(values: list[float]) -> tuple[float, str]:
    ordered = sorted(values)
    spread = (f"{len(values)} runs: {ordered[0]:.3f} / {statistics.median(ordered):.3f} / "
              f"{ordered[-1]:.3f}" if len(values) > 1 else "1 run")
    return ordered[0], spread


def one_change_target(project: Path) -> tuple[Path, bool]:
    """The input the one-change build changes: the first RAW asset's first input (its bytes are
    changed), else the first input of any asset (only its mtime is bumped: a format file with a
    changed byte could stop being valid). Returns (path, bytes_changed)."""
    fallback: Path | None = None
    for directory, subdirs, files in sorted(os.walk(project / "assets")):
        subdirs.sort()
        if "asset.json" not in files or "/.prometeu" in directory:
            continue
        try:
            decl = json.loads((Path(directory) / "asset.json").read_text(encoding="utf-8"))
            inputs = [p for paths in decl["inputs"].values() for p in paths]
            fmt = str(decl["output"]["format"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        existing = [Path(directory) / p for p in inputs if (Path(directory) / p).is_file()]
        if existing and fmt.startswith("RAW/"):
            return existing[0], True
        if existing and fallback is None:
            fallback = existing[0]
    if fallback is None:
        raise SystemExit(f"{project} has no asset with an input to change for build_one_change")
    return fallback, False


@dataclass(frozen=True)
class Settings:
    runs: int
    timeout: float
    startup_s: float
    baseline_rss_kb: int
    emit: Callable[..., None]


def measure_size(label: str, project: Path, scratch: Path, settings: Settings
                 ) -> dict[str, float]:
    runs, timeout, emit = settings.runs, settings.timeout, settings.emit
    startup_s, baseline_rss_kb = settings.startup_s, settings.baseline_rss_kb
    copy = working_copy(project, scratch)
    assets = count_assets(copy)
    emit(f"assets_{label}", assets, f"load {load_average()}")
    figures: dict[str, float] = {}

    def timed(name: str, args: Sequence[str], repeat: int, before: Callable[[int], None] | None
              = None) -> list[Run]:
        done = []
        for run in range(repeat):
            if before is not None:
                before(run)
            done.append(run_packer(args, timeout))
        value, spread = best([r.seconds for r in done])
        figures[name] = value
        codes = sorted({r.exit_code for r in done})
        emit(f"{name}_s_{label}", value, f"{spread}; exit {'/'.join(map(str, codes))}")
        return done

    floor_list_s, spread = best([floor_list(copy) for _ in range(max(runs, 3))])
    emit(f"floor_list_s_{label}", floor_list_s, spread)
    floor_build_s, spread = best([floor_build(copy, scratch) for _ in range(max(runs, 3))])
    emit(f"floor_build_s_{label}", floor_build_s, spread)

    where = str(copy)
    timed("list", ["list", "--json", where], runs)
    timed("doctor_cold", ["doctor", "--json", where], 1)
    timed("doctor", ["doctor", "--json", where], runs)
    timed("doctor_workspace", ["doctor", "--workspace", "--json", where], runs)
    full = timed("build_full", ["build", "--no-cache", "--json", where], runs)
    cpu, spread = best([r.cpu_s for r in full])
    emit(f"build_full_cpu_s_{label}", cpu, f"{spread}; user + system of every process of the "
         f"build (it encodes in {min(os.cpu_count() or 1, 8)} by default; the floor runs in one)")
    if any(r.exit_code for r in full):
        print(f"# warning: build --no-cache of {label} did not succeed", file=sys.stderr)
    timed("build_noop", ["build", "--json", where], runs)
    changed, change_bytes = one_change_target(copy)
    original = changed.read_bytes()

    def change(run: int) -> None:
        if change_bytes and original:
            changed.write_bytes(original[:-1] + bytes([(original[-1] + run + 1) % 256]))
        else:
            os.utime(changed)

    emit(f"one_change_input_{label}", 1, f"{changed.relative_to(copy)}"
         + ("" if change_bytes else " (mtime bumped, bytes unchanged)"))

    timed("build_one_change", ["build", "--json", where], runs, change)
    list_floor = floor_list_s + startup_s
    ratio = {
        "list_vs_floor": figures["list"] / list_floor,
        "doctor_workspace_vs_floor": figures["doctor_workspace"] / list_floor,
        "build_vs_floor": figures["build_full"] / (floor_build_s + startup_s),
        "one_change_vs_full_ratio": figures["build_one_change"] / figures["build_full"],
        "peak_rss_kb_per_asset": (max(r.peak_rss_kb for r in full) - baseline_rss_kb)
        / max(1, assets),
    }
    for name, value in ratio.items():
        emit(f"{name}_{label}", value, target_note(name, label, value))
    shutil.rmtree(copy, ignore_errors=True)
    return figures


def target_note(name: str, label: str, value: float) -> str:
    limit, at = TARGETS[name]
    return f"target ≤ {limit:g} at {at}" + (
        "" if label != at else ": " + ("met" if value <= limit else "NOT MET"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000",
                        help="asset counts to generate and measure, comma-separated "
                        "(default 1000,10000; add 30000 for the memory target)")
    parser.add_argument("--project", type=Path, default=None,
                        help="measure this project instead (never modified: a copy is used)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bytes-per-asset", type=int, default=2500)
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()),
                        help="where generated projects are kept and reused")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per command")
    args = parser.parse_args(argv)
    if args.project is not None and not (args.project / "prometeu.json").is_file():
        parser.error(f"{args.project} is not a project (no prometeu.json)")
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes takes comma-separated integers, not {args.sizes!r}")

    def emit(name: str, value: float, note: str = "") -> None:
        text = f"{value}" if isinstance(value, int) else f"{value:.4f}"
        print(f"{name}: {text}" + (f"  # {note}" if note else ""), flush=True)

    with tempfile.TemporaryDirectory(prefix="prometeu-bench-scale-") as scratch_text:
        scratch = Path(scratch_text)
        print(f"# load: {load_average()}", flush=True)
        print(compile_packages(), flush=True)
        startup, spread = best([run_packer(["--version"], args.timeout).seconds
                                for _ in range(max(args.runs, 5))])
        emit("startup_s", startup, spread)
        tiny = generated_project(args.keep, 1, args.bytes_per_asset)
        tiny_copy = working_copy(tiny, scratch)
        baseline_rss_kb = max(run_packer(["build", "--no-cache", "--json", str(tiny_copy)],
                                         args.timeout).peak_rss_kb for _ in range(2))
        shutil.rmtree(tiny_copy)
        emit("baseline_rss_kb", baseline_rss_kb, "build --no-cache of a one-asset project")
        settings = Settings(args.runs, args.timeout, startup, baseline_rss_kb, emit)
        measured: dict[str, dict[str, float]] = {}
        if args.project is not None:
            measured["project"] = measure_size("project", args.project.resolve(), scratch,
                                               settings)
        else:
            for size in sizes:
                project = generated_project(args.keep, size, args.bytes_per_asset)
                measured[label_of(size)] = measure_size(label_of(size), project, scratch,
                                                        settings)
        if "1k" in measured and "10k" in measured:
            for command in COMMANDS:
                growth = measured["10k"][command] / measured["1k"][command]
                emit(f"growth_1k_10k_{command}", growth,
                     f"target ≤ {GROWTH_TARGET:g}: "
                     + ("met" if growth <= GROWTH_TARGET else "NOT MET"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
