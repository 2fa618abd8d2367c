"""Interactive widgets: thin wrappers around plain, tested functions.

Only core ipywidgets are used, so the same code runs on ipywidgets 7.7 (Colab) and 8.x (JupyterLab 4).
Importing this package does not import ipywidgets; each widget does, when it is built. Every widget
keeps what its last redraw computed in ``last_result``, so tests can move a control and check it.

=======================  ==========================================================================
module                   widget
=======================  ==========================================================================
``slider_plot``          ``ControlledFigure``, the base of every widget; ``SliderPlot`` (00's widget check)
``learning_rate``        01: gradient descent on a 1-D function, learning rate on a log slider
``logistic_explorer``    02: the learning rate of logistic regression on wine
``activations``          03: every activation function with its derivative
``decision_surfaces``    03: decision surfaces as width, depth and activation change
``optimizer_race``       03: SGD, Momentum, Adagrad, RMSProp and Adam on 2-D loss surfaces
``transform_explorer``   05: one image under several random draws of the augmentations you tick
``kernel_explorer``      04: a 3 x 3 kernel (or a preset) applied to a photo
=======================  ==========================================================================
"""

from .activations import ActivationExplorer, activation_explorer
from .decision_surfaces import decision_surface_explorer
from .kernel_explorer import KernelExplorer, kernel_explorer
from .learning_rate import DescentExplorer, descent_explorer
from .logistic_explorer import LogisticExplorer
from .optimizer_race import OptimizerRace, optimizer_race_widget
from .slider_plot import ControlledFigure, SliderPlot
from .transform_explorer import TransformExplorer

__all__ = ["ControlledFigure", "SliderPlot", "DescentExplorer", "descent_explorer", "LogisticExplorer", "ActivationExplorer",
           "activation_explorer", "decision_surface_explorer", "OptimizerRace", "optimizer_race_widget",
           "KernelExplorer", "kernel_explorer", "TransformExplorer"]
