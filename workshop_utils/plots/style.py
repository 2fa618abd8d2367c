"""One readable, colour-blind-safe style for every plot."""

from __future__ import annotations

# Okabe & Ito's palette: distinguishable with every common form of colour blindness.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


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
