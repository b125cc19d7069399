"""The ``cjm`` command: plugins, connectors, validate, generate, calibrate, study run/batch/list.

Every command prints what it did; a :class:`~cjm_core.errors.CjmError` is shown as one clear
message (no traceback) and the command exits with status 2; data problems found by
``cjm validate`` exit with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pluggy import PluginValidationError

from .errors import CjmError, StudyError


def _plugins(args: argparse.Namespace) -> int:
    from .plugins import get_registry

    registry = get_registry()
    if args.json:
        print(json.dumps(registry.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        print(registry.describe())
    return 0


def _connectors(args: argparse.Namespace) -> int:
    from .plugins import get_registry

    registry = get_registry()
    if args.json:
        listed = {
            name: {
                "plugin": registry.plugin_of("connector", name),
                "description": c.description,
                "options": dict(c.options),
            }
            for name, c in sorted(registry.connectors.items())
        }
        print(json.dumps(listed, indent=2, sort_keys=True))
        return 0
    if not registry.connectors:
        print("No connectors are installed.")
        return 0
    for name, connector in sorted(registry.connectors.items()):
        print(f"{name} (plugin {registry.plugin_of('connector', name)}): {connector.description}")
        for option, help_text in connector.options.items():
            print(f"    {option}: {help_text}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .bundle import validate_data_dir
    from .plugins import get_registry

    catalog = get_registry().template(args.template).catalog
    problems = validate_data_dir(
        args.data_dir, catalog, assume_timezone=args.assume_timezone, mapping=args.mapping
    )
    if not problems:
        print(f"{args.data_dir}: no problems found (template {args.template!r}).")
        return 0
    print(f"{args.data_dir}: {len(problems)} problem(s) found (template {args.template!r}):")
    for problem in problems:
        print(f"  - {problem.message}")
    return 1


def _generate(args: argparse.Namespace) -> int:
    from .datasets import generate_dataset
    from .plugins import get_registry

    template = get_registry().template(args.template)
    if template.generate is None:
        raise CjmError(f"Template {args.template!r} ships no synthetic data generator.")
    options = {}
    if args.start:
        options["start"] = args.start
    if args.end:
        options["end"] = args.end
    if args.intervention_date:
        options["intervention_date"] = args.intervention_date
    print(
        f"Generating {args.template} data: {args.customers} customers, seed {args.seed} ...",
        file=sys.stderr,
    )
    written = generate_dataset(
        template,
        Path(args.out),
        customers=args.customers,
        seed=args.seed,
        format=args.format,
        **options,
    )
    for path in written:
        print(path)
    return 0


def parse_parameters(pairs: list[str], files: list[str]) -> dict[str, Any]:
    """``-f params.yaml`` files first, then ``-p key=value`` pairs (values read as YAML).

    >>> parse_parameters(["alpha=0.1", "touchpoints=[branch, atm]"], [])
    {'alpha': 0.1, 'touchpoints': ['branch', 'atm']}
    """
    params: dict[str, Any] = {}
    for file in files:
        try:
            loaded = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise StudyError(f"Parameter file {file!r} does not exist.") from None
        if not isinstance(loaded, dict):
            raise StudyError(f"Parameter file {file!r} must hold a mapping of name: value.")
        params.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StudyError(f"Parameter {pair!r} must look like key=value (e.g. -p alpha=0.1).")
        params[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return params


def _study_run(args: argparse.Namespace) -> int:
    from .runner import run_study

    params = parse_parameters(args.param or [], args.param_file or [])
    run = run_study(
        args.name,
        params,
        run_name=args.run_name,
        reports_dir=args.reports_dir,
        progress=not args.no_progress,
    )
    print(f"Report: {run.html}")
    return 0


def _study_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch

    result = run_batch(
        args.grid,
        reports_dir=args.reports_dir,
        progress=not args.no_progress,
        stop_on_error=args.stop_on_error,
    )
    print(result.summary())
    print(f"Index: {result.index}")
    return 0 if result.ok else 1


def _study_list(args: argparse.Namespace) -> int:
    from .plugins import get_registry
    from .runner import list_parameters

    notebooks = get_registry().notebooks
    if not notebooks:
        print("No study notebooks are installed.")
        return 0
    for name, spec in sorted(notebooks.items()):
        print(f"{name}: {spec.title}")
        print(f"  {spec.path}")
        for pname, info in list_parameters(spec.path).items():
            help_text = f"  # {info['help']}" if info.get("help") else ""
            print(f"    {pname} = {info['default']}{help_text}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from .stats.calibration import format_table, run_all

    areas = args.area or None
    table = run_all(
        n_sims=args.sims, seed=args.seed, areas=areas, progress=_progress, full=args.full
    )
    print(format_table(table))
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"Written: {args.out}")
    return 0 if table["ok"].all() else 1


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _batch_help() -> str:
    from . import batch

    doc = batch.__doc__ or ""
    return (
        doc.split("Example::")[0].strip()
        + "\n\nExit status: 0 if every run succeeded, 1 if any failed."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cjm", description="Customer-journey research workspace")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list installed plugins and what they add")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_plugins)

    p = sub.add_parser("connectors", help="list the data-source connectors and their options")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_connectors)

    p = sub.add_parser("validate", help="check a data folder against a template's catalog")
    p.add_argument("data_dir")
    p.add_argument("--template", required=True, help="template whose catalog to check against")
    p.add_argument("--assume-timezone", default=None, help="zone for naive timestamps")
    p.add_argument("--mapping", default=None, help="YAML file mapping source to canonical columns")
    p.set_defaults(func=_validate)

    p = sub.add_parser("generate", help="write a template's synthetic data set")
    p.add_argument("template")
    p.add_argument("--customers", type=int, default=5000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", required=True, help="folder to write into")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument("--start", default=None, help="first day, YYYY-MM-DD")
    p.add_argument("--end", default=None, help="last day, YYYY-MM-DD")
    p.add_argument("--intervention-date", default=None, help="day the planted change starts")
    p.set_defaults(func=_generate)

    p = sub.add_parser(
        "calibrate", help="check the statistics by simulation (false positives, coverage, power)"
    )
    p.add_argument("--sims", type=int, default=2000, help="simulated studies per check")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--area", action="append", help="only this area (repeatable)")
    p.add_argument("--out", default=None, help="also write the table to this CSV file")
    p.add_argument(
        "--full", action="store_true", help="the slow structural time series at --sims too"
    )
    p.set_defaults(func=_calibrate)

    study = sub.add_parser("study", help="run and list study notebooks").add_subparsers(
        dest="study_command", required=True
    )
    p = study.add_parser("run", help="execute a study notebook with papermill")
    p.add_argument("name", help="study name (see `cjm study list`) or notebook path")
    p.add_argument("-p", "--param", action="append", metavar="KEY=VALUE")
    p.add_argument("-f", "--param-file", action="append", metavar="PARAMS.yaml")
    p.add_argument("--run-name", default=None)
    p.add_argument("--reports-dir", default=None)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_study_run)
    p = study.add_parser(
        "batch",
        help="run a study for many parameter sets from a grid file",
        description=_batch_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("grid", help="YAML grid file (format above)")
    p.add_argument("--reports-dir", default=None, help="where run folders and index.html go")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--stop-on-error", action="store_true", help="skip the rest after a failure")
    p.set_defaults(func=_study_batch)
    p = study.add_parser("list", help="list study notebooks and their parameters")
    p.set_defaults(func=_study_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CjmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PluginValidationError as exc:  # a plugin's hook has a typo or a wrong signature
        notes = "\n".join(getattr(exc, "__notes__", []))
        print(f"error: plugin {exc.plugin!r} is invalid: {exc}\n{notes}".rstrip(), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
