"""Plotting helpers: one style, and one module per kind of picture.

Each function draws on a matplotlib ``ax`` you pass in and returns the numbers it drew, so it can be
tested without looking at pixels and reused inside widgets. Import from the module, e.g.
``from workshop_utils.plots.boundaries import plot_decision_boundary``.

=================  ===============================================================================
module             pictures
=================  ===============================================================================
``style``          ``OKABE_ITO`` colours and ``use_workshop_style()``
``boundaries``     decision boundaries of 2-D classifiers; a linear boundary's line
``curves``         named curves side by side; training histories; ``LiveCurves`` that update while training
``descent``        1-D gradient descent paths and learning-rate comparisons
``functions``      a function with its derivative (activations), line fits
``linear_models``  perceptron lines per epoch, mistakes, the log-loss penalty, loss curves
``surfaces``       2-D loss surfaces with optimizer paths
``images``         grids of images, "True: X / Pred: Y" mistakes, confusion matrices
``feature_maps``   number grids, a convolution step, learned filters, feature maps
``leaderboard``    the competition's board as bars, your entry highlighted
``performance``    speed-up bars of notebook 07's measurements
``setup_check``    the sine wave of notebook 00's widget check
=================  ===============================================================================
"""

from .boundaries import plot_decision_boundary, plot_linear_boundary
from .curves import LiveCurves, plot_history
from .setup_check import plot_sine_wave
from .style import OKABE_ITO, use_workshop_style

__all__ = ["OKABE_ITO", "use_workshop_style", "plot_sine_wave", "plot_decision_boundary", "plot_linear_boundary",
           "LiveCurves", "plot_history"]
