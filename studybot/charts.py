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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, max(len(charts), 1), figsize=(5.5 * max(len(charts), 1), 4), squeeze=False)
    for ax, spec in zip(axes[0], charts):
        for label, ys in spec["lines"].items():
            ax.plot(spec["x"], [float("nan") if y is None else y for y in ys], marker="o", markersize=3, label=label)
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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
