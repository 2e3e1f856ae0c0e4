"""The command line, ``python -m conv1x1``: the tour (``conv1x1.course.tour``) and a cost calculator.

    python -m conv1x1                 # the tour (a few seconds)
    python -m conv1x1 cost --in 192 --reduce 16 --out 32 --size 28 --kernel 5
    python -m conv1x1 cost --in 192 --out 32 --size 28 --explain
    python -m conv1x1 cost --in 192 --out 32 --size 28 --roofline
    python -m conv1x1 exercises       # exercises that check your own code: conv1x1.exercises.cli
    python -m conv1x1 notebooks DIR   # every example as a Jupyter notebook in DIR (from a clone)
    python -m conv1x1 --help
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..cost import Comparison, Report, bottleneck_comparison, conv_cost
from ..exercises.cli import UsageError, silence_stdout
from ..fast.timing import machine_peaks
from ..models import MODELS
from .notebooks import write_notebooks
from .tour import tour

FORMATS = ("text", "markdown", "html", "json", "csv")


def cost_command(args: argparse.Namespace) -> str:
    """The text the cost command prints: a layer, the bottleneck comparison (--reduce) or a model (--model)."""
    _check_combinations(args)
    if args.model is not None:
        report, comparison = _model_report(args), None
    else:
        report, comparison = _layer_report(args)
    if args.roofline:
        return _roofline_text([report] if comparison is None else [comparison.baseline, comparison.candidate],
                              comparison, args)
    if args.by_kind:
        return json.dumps(report.by_kind(), indent=2) if args.format == "json" else report.by_kind_table()
    if args.explain:
        return comparison.explain() if comparison is not None else report.explain()
    if comparison is not None:
        return _comparison_text(comparison, args)
    return _render(report, args)


def _roofline_text(reports: list[Report], comparison: Comparison | None, args: argparse.Namespace) -> str:
    """Measure this machine, then each report's roofline prediction (and the predicted speed-up of two)."""
    peaks = machine_peaks()
    predictions = [r.predict(peaks, args.dtype, args.batch or 1) for r in reports]
    if args.format == "json":
        return json.dumps({"peaks": {"gmacs": peaks.gmacs, "gb_per_second": peaks.gb_per_second, "how": peaks.how},
                           "predictions": [{"title": p.title, "seconds": p.seconds, "layers": list(p.rows)}
                                           for p in predictions]}, indent=2)
    text = [f"Machine peaks: {peaks}"] + [str(p) for p in predictions]
    if comparison is not None:
        text.append(f"predicted speed-up {predictions[0].seconds / predictions[1].seconds:.1f}x "
                    f"(roofline times); MACs ratio {comparison.macs_ratio:.1f}x")
    return "\n\n".join(text)


def _comparison_text(comparison: Comparison, args: argparse.Namespace) -> str:
    """Two alternatives side by side, in the chosen format: never one total over both."""
    if args.format == "text" and args.depth is None and args.batch is None:
        return str(comparison)
    if args.format == "csv":
        return comparison.as_report().to_csv(batch=args.batch).rstrip("\n")
    if args.format == "json":
        return json.dumps({"baseline": comparison.baseline.tree(args.batch),
                           "candidate": comparison.candidate.tree(args.batch),
                           "macs_ratio": comparison.macs_ratio}, indent=2)
    return "\n\n".join(_render(r, args) for r in (comparison.baseline, comparison.candidate)) + (
        f"\n\nMACs ratio (baseline / candidate): {comparison.macs_ratio:.2f}x")


def _render(report: Report, args: argparse.Namespace) -> str:
    """One report in the chosen format."""
    if args.format == "text":
        return report.summary(depth=args.depth, batch=args.batch)
    if args.format == "markdown":
        return report.to_markdown(depth=args.depth, batch=args.batch)
    if args.format == "html":
        return report.to_html(depth=args.depth, batch=args.batch)
    if args.format == "json":
        return report.to_json(batch=args.batch)
    return report.to_csv(batch=args.batch).rstrip("\n")


def _check_combinations(args: argparse.Namespace) -> None:
    """Refuse combinations that would silently do something else than asked."""
    _check_what(args)
    _check_how(args)


def _check_what(args: argparse.Namespace) -> None:
    """A layer (--in, --out, ...) or a network (--model ...), never a mix of the two."""
    layer_flags = {"--in": args.in_channels, "--out": args.out_channels, "--reduce": args.reduce,
                   "--kernel": args.kernel, "--stride": args.stride, "--padding": args.padding,
                   "--no-bias": args.no_bias or None}
    if args.model is not None:
        given = [flag for flag, value in layer_flags.items() if value is not None]
        if given:
            raise UsageError(f"--model prices a whole network: leave out {', '.join(given)}")
        return
    missing = [flag for flag in ("--in", "--out") if layer_flags[flag] is None]
    if missing:
        raise UsageError(f"give {' and '.join(missing)} (or --model NAME for a whole network)")
    if args.width_multiplier is not None or args.stride_on is not None or args.groups is not None:
        raise UsageError("--width-multiplier, --stride-on and --groups apply to --model only")
    if args.reduce is not None and (args.stride is not None or args.padding not in (None, "same")):
        raise UsageError("--reduce compares 'same' convolutions: leave out --stride and --padding")


def _check_how(args: argparse.Namespace) -> None:
    """One way of showing it (--explain, --by-kind, --roofline), in a format that can show it."""
    chosen = [flag for flag, on in (("--explain", args.explain), ("--by-kind", args.by_kind),
                                    ("--roofline", args.roofline)) if on]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} print different things: choose one")
    if args.explain and args.format != "text":
        raise UsageError("--explain prints text (use --format html for the formulas as tooltips)")
    if (args.by_kind or args.roofline) and args.format not in ("text", "json"):
        raise UsageError(f"{chosen[0]} prints text or json, not {args.format}")
    if args.depth is not None and (args.format in ("json", "csv") or chosen):
        what = args.format if args.format in ("json", "csv") else chosen[0]
        raise UsageError(f"--depth shapes the text, markdown and html tables; {what} has no depth to set")
    if args.batch is not None and (args.explain or args.by_kind):
        raise UsageError(f"{chosen[0]} works per image: leave out --batch")
    if args.dtype is not None and not args.roofline:
        raise UsageError("--dtype sets the bytes of the roofline prediction: use it with --roofline")
    args.dtype = args.dtype or "float32"


def _layer_report(args: argparse.Namespace) -> tuple[Report, Comparison | None]:
    """(Report, None) for one convolution, or (None-free Report, Comparison) with --reduce."""
    height = args.height if args.height is not None else args.size
    width = args.width if args.width is not None else args.size
    if height is None or width is None:
        raise UsageError("give the input size: --size S, or --height H and --width W")
    bias = not args.no_bias
    if args.reduce is not None:
        kernel = 5 if args.kernel is None else args.kernel   # bottleneck_comparison's default
        comparison = bottleneck_comparison(args.in_channels, args.reduce, args.out_channels, height, width,
                                           kernel_size=kernel, bias=bias)
        return comparison.candidate, comparison
    kernel = 1 if args.kernel is None else args.kernel      # a 1x1 convolution, like C.Conv1x1
    padding = 0 if args.padding is None else ("same" if args.padding == "same" else _int(args.padding))
    stride = 1 if args.stride is None else args.stride
    layer = conv_cost(args.in_channels, args.out_channels, height, width, kernel, stride, padding, bias=bias,
                      name=f"{args.in_channels} -> {args.out_channels}")
    return Report([layer], title=f"{kernel}x{kernel} convolution, {height}x{width}x{args.in_channels} input"), None


def _model_report(args: argparse.Namespace) -> Report:
    """The cost of ``conv1x1.models.MODELS[args.model]`` built with ``--width-multiplier``."""
    if args.model not in MODELS:
        raise UsageError(f"unknown --model {args.model!r}; choose one of: {', '.join(sorted(MODELS))}")
    height = args.height if args.height is not None else args.size
    width = args.width if args.width is not None else args.size
    if height is None or width is None:
        raise UsageError("give the input size: --size S (e.g. 224 for ImageNet models), or --height and --width")
    kwargs: dict[str, Any] = {}
    accepted = inspect.signature(MODELS[args.model]).parameters
    for flag, key in (("--width-multiplier", "width_multiplier"), ("--stride-on", "stride_on"), ("--groups", "groups")):
        value = getattr(args, key)
        if value is not None:
            if key not in accepted:
                raise UsageError(f"{flag} does not apply to --model {args.model}")
            kwargs[key] = value
    model = MODELS[args.model](**kwargs)
    report = model.cost(height, width)
    if not report.title or report.title == type(model).__name__:
        suffix = "" if args.width_multiplier is None else f", width multiplier {args.width_multiplier:g}"
        suffix += "" if args.stride_on is None else f", stride on the {args.stride_on}"
        suffix += "" if args.groups is None else f", groups {args.groups}"
        report = Report(report.children, title=f"{args.model}{suffix}, {height}x{width} input")
    return report


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f'--padding must be an integer or "same", got {text!r}') from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conv1x1",
        description="The 1x1 convolution in plain NumPy. Without a command: a short tour.",
        epilog="Example: python -m conv1x1 cost --in 192 --reduce 16 --out 32 --size 28 --kernel 5",
    )
    parser.add_argument("--version", action="version", version=f"conv1x1 {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{tour,cost,exercises,notebooks}")
    commands.add_parser("tour", help="the tour (the default)")
    commands.add_parser("exercises", help="write the pieces yourself and have them checked (exercises --help)")
    notebooks = commands.add_parser(
        "notebooks", help="write every example as a Jupyter notebook (.ipynb) in DIR",
        description="Write every example script of a clone's examples/ folder as a Jupyter notebook "
                    "(nbformat 4.5) in DIR, with the links to the chapters made plain. Open them with "
                    "`jupyter lab DIR`, or run one with `jupyter nbconvert --to notebook --execute FILE`.")
    notebooks.add_argument("directory", metavar="DIR", type=Path, help="folder to write the notebooks in")
    notebooks.add_argument("--examples", type=Path, metavar="PATH",
                           help="the folder of example scripts (default: ./examples, or the clone's)")
    notebooks.set_defaults(subparser=notebooks)
    cost = commands.add_parser(
        "cost", help="parameters, MACs and FLOPs of a convolution or a network (1 MAC = 2 FLOPs)",
        description="Count parameters, MACs and FLOPs (1 MAC = 2 FLOPs) of a KxK convolution (a 1x1 "
                    "convolution unless --kernel says otherwise), or with --reduce compare a direct KxK "
                    "convolution with a 1x1 reduction followed by it, or price a whole network (--model). "
                    "Bias adds, batch norm, activations and pooling are counted apart, never in MACs.",
        epilog="Examples: cost --in 192 --out 32 --size 28 (4,816,896 MACs); "
               "cost --in 192 --reduce 16 --out 32 --size 28 --explain; "
               "cost --in 192 --out 32 --size 28 --roofline")
    what = cost.add_argument_group("what to price")
    what.add_argument("--in", dest="in_channels", type=int, metavar="C_IN", help="input channels")
    what.add_argument("--out", dest="out_channels", type=int, metavar="C_OUT",
                      help="output channels (the number of filters)")
    what.add_argument("--reduce", type=int, metavar="C_RED",
                      help="compare with a 1x1 reduction to C_RED channels before the KxK convolution "
                           "('same' padding; K defaults to 5 there, as in bottleneck_comparison)")
    what.add_argument("--size", type=int, help="input height and width (square)")
    what.add_argument("--height", type=int, help="input height (overrides --size)")
    what.add_argument("--width", type=int, help="input width (overrides --size)")
    what.add_argument("--kernel", type=int, metavar="K", help="kernel size K (default 1)")
    what.add_argument("--stride", type=int, help="stride (default 1)")
    what.add_argument("--padding", help='padding: an integer or "same" (default 0)')
    what.add_argument("--no-bias", action="store_true", help="no bias (no bias parameters, no bias adds)")
    what.add_argument("--model", metavar="NAME", help="price a network from conv1x1.models.MODELS instead")
    what.add_argument("--width-multiplier", type=_positive_float, metavar="W",
                      help="with --model mobilenet_v1 or shufflenet_v1: scale every layer's channels by W")
    what.add_argument("--stride-on", choices=("1x1", "3x3"),
                      help="with --model resnet50: where each stage's first block strides (default 3x3, "
                           "torchvision's; 1x1 is the paper's)")
    what.add_argument("--groups", type=int, metavar="G",
                      help="with --model shufflenet_v1: groups of its 1x1 convolutions, 1, 2, 3, 4 or 8 (default 3)")
    how = cost.add_argument_group("how to show it")
    how.add_argument("--format", choices=FORMATS, default="text", help="output format (default text)")
    how.add_argument("--explain", action="store_true",
                     help="every row with its working: output size, params and MACs as formulas")
    how.add_argument("--depth", type=int, metavar="N", help="open the tree N levels deep (default: all)")
    how.add_argument("--by-kind", action="store_true", help="MACs and params by kind of layer (1x1, KxK, ...)")
    how.add_argument("--roofline", action="store_true",
                     help="measure this machine (about a second) and predict each layer's time")
    how.add_argument("--dtype", choices=("float32", "float64"), help="with --roofline: the number type "
                     "(default float32)")
    how.add_argument("--batch", type=int, metavar="N", help="count for a batch of N images (default: one image)")
    cost.set_defaults(subparser=cost)  # so that errors print the cost command's usage
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (2 for bad arguments, 1 if the output cannot be written)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["exercises"]:    # a command line of its own: conv1x1.exercises.cli
        from ..exercises.cli import main as exercises_main
        return exercises_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)   # exits 2 with a message on bad syntax
    try:
        if sys.stdout is None:   # started with stdout closed (`>&-`)
            raise OSError(9, "standard output is closed")
        if args.command == "cost":
            _write(_cost_text(args) + "\n")
        elif args.command == "notebooks":
            _write(_notebooks_text(args) + "\n")
        else:
            tour()
        sys.stdout.flush()
    except UsageError as error:
        args.subparser.error(str(error)) if hasattr(args, "subparser") else parser.error(str(error))
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        silence_stdout()
        return 0
    except OSError as error:  # a full disk, a closed stdout
        silence_stdout()
        print(f"python -m conv1x1: could not write the output: {error.strerror or error}", file=sys.stderr)
        return 1
    return 0


def _cost_text(args: argparse.Namespace) -> str:
    """``cost_command``'s text, with the library's refusals turned into usage errors (exit status 2)."""
    for flag, value in (("--depth", args.depth), ("--batch", args.batch)):
        if value is not None and value < 1:
            raise UsageError(f"{flag} must be a positive integer, got {value}")
    try:
        return cost_command(args)
    except OverflowError:
        raise UsageError("these counts are too large for a time in floating point (above 1e308): "
                         "--roofline needs smaller sizes") from None
    except ValueError as error:
        if "integer string conversion" in str(error):
            raise UsageError("a count has more digits than Python will write out "
                             f"({sys.get_int_max_str_digits()}); use --format text, which shortens "
                             "it, or smaller sizes") from None
        raise UsageError(str(error)) from None
    except TypeError as error:
        raise UsageError(str(error)) from None


def _notebooks_text(args: argparse.Namespace) -> str:
    """Write the notebooks; the lines to print: each notebook written, then how to open and run them."""
    try:
        written = write_notebooks(args.directory, args.examples)
    except (FileNotFoundError, NotADirectoryError) as error:
        raise UsageError(str(error)) from None
    lines = [str(path) for path in written]
    lines.append(f"{len(written)} notebooks written. Open them with `jupyter lab {args.directory}`, or run one "
                 f"with `jupyter nbconvert --to notebook --execute {written[0]}`.")
    return "\n".join(lines)


def _write(text: str) -> None:
    """Write to stdout; an OSError if there is no stdout to write to."""
    if sys.stdout is None:
        raise OSError(9, "standard output is closed")
    sys.stdout.write(text)
