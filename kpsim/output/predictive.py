"""The posterior-predictive chart of `kpsim calibrate`: per case, what the posterior's draws give against what was recorded."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from kpsim.output.style import INK, MUTED, OKABE_ITO, SLIDE, house_style, percent_axis
from kpsim.version import __version__


def predictive_chart(ppc: pd.DataFrame, windows: dict[str, str], draws: int, replications: int) -> Figure:
    """One dot per posterior draw: the simulated chance of the recorded outcome, per case (the box: middle 50%)."""
    cases = list(dict.fromkeys(ppc["case"]))
    with house_style():
        fig = Figure(figsize=SLIDE, layout="constrained")
        ax = fig.subplots()
        rng = np.random.default_rng(0)  # jitter only
        for i, case in enumerate(cases):
            p = ppc.loc[ppc["case"] == case, "p_recorded"].to_numpy()
            ax.boxplot(p, positions=[i], widths=0.5, orientation="horizontal", showfliers=False, medianprops={"color": INK},
                       boxprops={"color": MUTED}, whiskerprops={"color": MUTED}, capprops={"color": MUTED})
            ax.scatter(p, i + rng.uniform(-0.18, 0.18, len(p)), s=14, color=OKABE_ITO[0], alpha=0.6, zorder=3)
        ax.set_yticks(range(len(cases)), [f"{c.removeprefix('kp_')}\n({windows[c]})" for c in cases])
        ax.set_xlim(0, 1)
        percent_axis(ax, "x")
        ax.set_xlabel("simulated chance of what was recorded, per posterior draw")
        ax.invert_yaxis()
        fig.suptitle("Posterior-predictive check: does the fitted model reproduce each recorded case?", x=0.01, ha="left", fontweight="bold")
        ax.set_title(f"{draws} posterior draws × {replications} replications per case · kpsim {__version__} · "
                     "dots near 0%: a case the fitted model does not reproduce", loc="left", fontsize=11, color=MUTED, fontweight="normal")
    return fig
