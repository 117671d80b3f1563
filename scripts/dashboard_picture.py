#!/usr/bin/env python3
"""Draws a Grafana dashboard's panels as a picture, from Prometheus' query API.

No Grafana can be installed on this machine (it is neither a Debian package
nor on a registry reachable here), so the README's picture of the dashboard is
drawn by this script instead: it reads the dashboard's JSON (deploy/grafana/),
runs each panel's PromQL expressions through Prometheus' /api/v1/query_range
over the given time range, and lays the panels out as the dashboard's gridPos
does, in Grafana's dark theme. The queries are the dashboard's own, so the
picture shows the series Grafana would.

Usage: dashboard_picture.py DASHBOARD.json PROMETHEUS_URL START END OUT.png
(START and END are Unix seconds.)
"""

import json
import re
import sys
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.gridspec import GridSpec  # noqa: E402

GRID_COLUMNS = 24
STEP_SECONDS = 2


def substitute(expr, step):
    """Replaces Grafana's built-in variables with what Grafana would put there."""
    expr = expr.replace("$__rate_interval", f"{4 * step}s")
    expr = expr.replace("$__interval", f"{step}s")
    expr = expr.replace("${__rate_interval}", f"{4 * step}s")
    # A dashboard variable (e.g. $job or ${instance}) selects everything here.
    expr = re.sub(r'=~?"\$\{?\w+\}?"', '=~".*"', expr)
    return expr


def query_range(prometheus, expr, start, end, step):
    query = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{prometheus}/api/v1/query_range?{query}", timeout=30) as response:
        body = json.load(response)
    if body.get("status") != "success":
        raise RuntimeError(f"query {expr!r}: {body}")
    return body["data"]["result"]


def legend(format_string, metric):
    if not format_string:
        return ",".join(f"{k}={v}" for k, v in sorted(metric.items()) if k != "__name__") or "value"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), format_string)


def panels_of(dashboard):
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    dashboard_path, prometheus, start, end, out = sys.argv[1:]
    start, end = float(start), float(end)
    with open(dashboard_path) as f:
        dashboard = json.load(f)
    panels = [p for p in panels_of(dashboard) if p.get("targets") and "gridPos" in p]
    if not panels:
        sys.exit(f"{dashboard_path}: no panel with queries and a gridPos")
    top = min(p["gridPos"]["y"] for p in panels)  # rows above the first panel hold only row headers
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) - top

    plt.style.use("dark_background")
    figure = plt.figure(figsize=(18, rows * 0.42), facecolor="#111217")
    grid = GridSpec(rows, GRID_COLUMNS, figure=figure, hspace=1.6, wspace=1.2, top=0.97)
    figure.suptitle(dashboard.get("title", "dashboard"), color="#d8d9da", fontsize=14, x=0.01, y=0.995, ha="left")
    drawn = 0
    for panel in panels:
        pos = panel["gridPos"]
        y = pos["y"] - top
        axes = figure.add_subplot(grid[y:y + pos["h"], pos["x"]:pos["x"] + pos["w"]])
        axes.set_facecolor("#181b1f")
        axes.set_title(panel.get("title", ""), color="#d8d9da", fontsize=10, loc="left")
        axes.tick_params(colors="#8e8e8e", labelsize=7)
        for spine in axes.spines.values():
            spine.set_color("#2c3235")
        axes.grid(color="#2c3235", linewidth=0.5)
        series = 0
        for target in panel["targets"]:
            expr = target.get("expr")
            if not expr:
                continue
            for result in query_range(prometheus, substitute(expr, STEP_SECONDS), start, end, STEP_SECONDS):
                times = [float(t) - start for t, _ in result["values"]]
                values = [float(v) for _, v in result["values"]]
                axes.plot(times, values, linewidth=1.2, label=legend(target.get("legendFormat"), result["metric"]))
                series += 1
        if series == 0:
            axes.text(0.5, 0.5, "no data", color="#8e8e8e", ha="center", va="center", transform=axes.transAxes)
        else:
            drawn += 1
            if series <= 8:
                axes.legend(fontsize=6, loc="upper left", framealpha=0.3)
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        axes.set_xlabel(f"seconds into the run{f'   ({unit})' if unit else ''}", color="#8e8e8e", fontsize=7)
    figure.savefig(out, dpi=110, facecolor=figure.get_facecolor(), bbox_inches="tight")
    print(f"{out}: {len(panels)} panels, {drawn} with data, {int(end - start)} s from {prometheus}")


if __name__ == "__main__":
    main()
