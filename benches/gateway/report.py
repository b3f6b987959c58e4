#!/usr/bin/env python3
"""Figures for compare.sh.

    report.py row NAME WRK_OUTPUT ROW_JSON CPU_MICROSECONDS
        Reads the line that wrk-report.lua printed into WRK_OUTPUT, refuses the run if any
        request failed (non-2xx/3xx answer, socket error or timeout), and writes the row's
        figures to ROW_JSON, with the CPU time its processes used per request.

    report.py table OUT_JSON ROW_JSON...
        Prints one table of the rows with the ratios between them, then the gateway's targets,
        and writes OUT_JSON as {"<row>": {"rps": .., "p50_ms": .., "p99_ms": ..}}.
"""

import json
import pathlib
import sys

MARKER = "COMPARE_JSON "
FAILURE_COUNTS = ("non_2xx_3xx", "connect_errors", "read_errors", "write_errors", "timeouts")
FIGURES = ("rps", "p50_ms", "p99_ms")

# (what, numerator row, denominator row, figure, bound, True if the ratio must be at least bound)
TARGETS = (
    ("sluicegate req/s vs express", "sluicegate", "express", "rps", 10.0, True),
    ("sluicegate p99 vs express", "sluicegate", "express", "p99_ms", 0.1, False),
    ("sluicegate req/s vs nginx", "sluicegate", "nginx", "rps", 0.8, True),
)


class ReportError(Exception):
    """A run that cannot be reported; the message says why."""


def wrk_figures(name, wrk_output, cpu_microseconds):
    lines = [line for line in wrk_output.splitlines() if line.startswith(MARKER)]
    if len(lines) != 1:
        raise ReportError(f"{name}: expected one {MARKER.strip()} line from wrk, found {len(lines)}")
    try:
        figures = json.loads(lines[0][len(MARKER):])
    except json.JSONDecodeError as error:
        raise ReportError(f"{name}: wrk printed malformed figures: {error}") from error
    failures = {key: figures[key] for key in FAILURE_COUNTS if figures.get(key, 0)}
    if failures:
        raise ReportError(f"{name}: {figures['requests']} requests, but failures {failures}")
    if figures["requests"] == 0:
        raise ReportError(f"{name}: wrk completed no request")
    row = {key: figures[key] for key in FIGURES}
    row["cpu_us_per_req"] = cpu_microseconds / figures["requests"]
    return row


def ratio(numerator, denominator):
    return numerator / denominator if denominator else float("inf")


def table(rows):
    names = list(rows)
    cell = max(11, max(len(name) for name in names) + 1)
    figures_head = f"{'':<{cell}}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}"
    ratios_head = "".join(f"{name:>{cell}}" for name in names)
    ratios_width = cell * len(names)
    lines = [
        f"{'':<{len(figures_head)}} | {'req/s as a multiple of':<{ratios_width - 1}}"
        f" | {'p99 as a multiple of':<{ratios_width - 1}}",
        f"{figures_head} |{ratios_head} |{ratios_head}",
    ]
    for name, figures in rows.items():
        rps_ratios = "".join(
            f"{ratio(figures['rps'], other['rps']):>{cell}.2f}" for other in rows.values()
        )
        p99_ratios = "".join(
            f"{ratio(figures['p99_ms'], other['p99_ms']):>{cell}.2f}" for other in rows.values()
        )
        lines.append(
            f"{name:<{cell}}{figures['rps']:>10.0f}{figures['p50_ms']:>9.2f}{figures['p99_ms']:>9.2f}"
            f"{figures['cpu_us_per_req']:>12.1f}"
            f" |{rps_ratios} |{p99_ratios}"
        )
    lines.append("(each ratio is the row's figure divided by the column's; CPU us/req is the")
    lines.append(" CPU time of the row's own processes per request: the upstream's for direct,")
    lines.append(" the gateway's for the others, Redis included for sluicegate_redis and express)")
    return "\n".join(line.rstrip() for line in lines)


def target_lines(rows):
    lines = []
    for what, numerator, denominator, figure, bound, at_least in TARGETS:
        if numerator not in rows or denominator not in rows:
            continue
        value = ratio(rows[numerator][figure], rows[denominator][figure])
        met = value >= bound if at_least else value <= bound
        sign = ">=" if at_least else "<="
        lines.append(f"{what}: {value:.2f}x (target {sign} {bound}x) {'met' if met else 'NOT MET'}")
    return lines


def command_row(name, wrk_output_path, row_json_path, cpu_microseconds):
    try:
        cpu = int(cpu_microseconds)
    except ValueError as error:
        raise ReportError(f"{name}: CPU time is not a whole number: {cpu_microseconds!r}") from error
    figures = wrk_figures(name, pathlib.Path(wrk_output_path).read_text(), cpu)
    pathlib.Path(row_json_path).write_text(json.dumps(figures) + "\n")


def command_table(out_json_path, row_json_paths):
    rows = {
        pathlib.Path(path).stem: json.loads(pathlib.Path(path).read_text())
        for path in row_json_paths
    }
    out = pathlib.Path(out_json_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    published = {name: {key: figures[key] for key in FIGURES} for name, figures in rows.items()}
    out.write_text(json.dumps(published, indent=2) + "\n")
    print(table(rows))
    targets = target_lines(rows)
    if targets:
        print()
        print("\n".join(targets))
    print(f"\nwrote {out}")


def main(argv):
    try:
        if len(argv) == 5 and argv[0] == "row":
            command_row(*argv[1:])
        elif len(argv) >= 3 and argv[0] == "table":
            command_table(argv[1], argv[2:])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (ReportError, OSError, KeyError, json.JSONDecodeError) as error:
        print(f"report.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
