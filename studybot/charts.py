"""Line charts drawn into a PNG: the demos' curves and the progress `stats --plot` draws.

A chart is plain data, {"title", "x", "x_label", "y_label", "log_y", "lines": {label: ys}}, optionally "y_range":
(low, high); a y of None is a gap.
"""

from __future__ import annotations

from pathlib import Path

from studybot.errors import StudybotError


def save_charts(charts: list[dict], title: str, path: Path | str) -> Path:
    """Draw the charts side by side into a PNG (matplotlib, Agg: no display needed)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise StudybotError(f"--plot needs a file name ending in .png, got {path.name!r}")
    if not path.parent.is_dir():
        raise StudybotError(f"cannot write {path}: folder {path.parent} does not exist")
    fig = figure(charts, title)  # selects the Agg backend before pyplot is imported
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def figure(charts: list[dict], title: str):
    """The charts drawn side by side: a colour of its own for each line (eleven topics repeated the ten default
    colours), whole-number ticks on an axis of counts (interview sessions read 1.2, 1.4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, max(len(charts), 1), figsize=(5.5 * max(len(charts), 1), 4), squeeze=False)
    for ax, spec in zip(axes[0], charts):
        palette = plt.get_cmap("tab10" if len(spec["lines"]) <= 10 else "tab20").colors
        for i, (label, ys) in enumerate(spec["lines"].items()):
            ax.plot(spec["x"], [float("nan") if y is None else y for y in ys], marker="o", markersize=3, label=label,
                    color=palette[i % len(palette)])
        if spec["x"] and all(isinstance(x, int) for x in spec["x"]):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if spec["log_y"]:
            ax.set_yscale("log")
        if spec.get("y_range"):
            ax.set_ylim(*spec["y_range"])
        ax.set(title=spec["title"], xlabel=spec["x_label"], ylabel=spec["y_label"])
        ax.grid(True, alpha=0.3)
        if spec["lines"]:
            ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
