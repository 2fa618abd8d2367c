"""One readable, colour-blind-safe style for every plot."""

from __future__ import annotations

# Okabe & Ito's palette: distinguishable with every common form of colour blindness.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
# The two ends of ColorBrewer's RdBu (a diverging map ColorBrewer marks colour-blind safe): two classes
# drawn over RdBu probability shading.
RDBU_ENDS = ("#2166AC", "#B2182B")
# Paul Tol's "wine", from his colour-blind-safe muted scheme: a ninth colour when eight are not enough.
TOL_WINE = "#882255"
# Every colour the figure check (plots/readability.py) accepts besides greys.
COLOUR_BLIND_SAFE = (*OKABE_ITO, *RDBU_ENDS, TOL_WINE)


def use_workshop_style() -> None:
    """Colour-blind-safe colours, a grid and readable font sizes for every later plot."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "axes.prop_cycle": cycler(color=OKABE_ITO),
        "axes.grid": True,
        "grid.alpha": 0.3,
        "font.size": 11,
        "axes.titlesize": 12,
        "figure.dpi": 100,
        "image.cmap": "viridis",
    })
