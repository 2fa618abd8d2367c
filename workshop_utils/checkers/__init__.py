"""Exercise checkers: call one after an exercise to get a clear pass, or what to fix.

A checker never raises into a wall of traceback: an exception in the attendee's code is caught and
explained. Every checker returns a :class:`Feedback` (truthy when passed), which also prints itself.

==========================  =================================================================
module                      exercises
==========================  =================================================================
``setup``                   00: repeatable randomness
``tensors_autograd``        01: tensor shapes, vectorizing, gradients by hand and by autograd,
                            gradient descent, a manual SGD step
``logistic_regression``     02: perceptron rule, stable sigmoid, log loss and its gradient
``mlp``                     03: an MLP for XOR, two linear layers collapsed into one
``activations``             03: activation derivatives
``softmax``, ``losses``     03: a stable softmax, cross-entropy from scratch
``optimizers``              03: SGD with momentum by hand
``training_loop``           03: ``train_one_epoch`` and ``evaluate``
``regularization``          05: RGBA to RGB on white, inverted dropout, an early-stopping rule,
                            the worst mistakes
``imbalance``               05: inverse-frequency class weights
``convolution``             04: convolution by hand, output size, parameter count, max pooling,
                            batch norm, a compact CNN
``competition``             08: a model from a settings dict, test predictions in order, a random
                            search picked by the validation score
``transfer``                06: ImageNet normalization, a new head, freezing a backbone, an
                            optimizer with a small learning rate for the backbone
``performance``             07: throughput and speed-up, timing a GPU honestly, a decode-once
                            cache, freezing all but the last layer
``core``, ``tensor_checks`` what every checker shares: Feedback, running attendee code safely
==========================  =================================================================
"""

from .activations import check_activation_derivatives
from .competition import check_build_model, check_predict_classes, check_random_search
from .convolution import (check_batch_norm, check_compact_cnn, check_conv2d, check_conv_output_size,
                          check_conv_parameter_count, check_max_pool)
from .core import Feedback, failed, passed, run_attempt
from .imbalance import check_class_weights
from .logistic_regression import check_log_loss, check_log_loss_gradients, check_sigmoid, check_train_perceptron
from .losses import check_cross_entropy
from .mlp import check_collapsed_linear, check_xor_mlp
from .optimizers import check_momentum_descent
from .performance import check_decoded_cache, check_freeze_all_but_last, check_throughput, check_timed_training
from .regularization import check_early_stopping, check_inverted_dropout, check_rgba_to_rgb, check_worst_mistakes
from .setup import check_repeatable_draws
from .softmax import check_softmax
from .tensors_autograd import (check_flatten_images, check_gradient_descent, check_grads_by_hand,
                               check_grads_with_autograd, check_image_batch, check_sgd_step,
                               check_sigmoid_net_grads, check_standardize_columns)
from .transfer import (check_fine_tuning_optimizer, check_freeze_backbone, check_normalize_batch,
                       check_replace_head)
from .training_loop import check_evaluate, check_train_one_epoch

__all__ = [
    "Feedback", "failed", "passed", "run_attempt",
    "check_repeatable_draws",
    "check_image_batch", "check_flatten_images", "check_standardize_columns", "check_grads_by_hand",
    "check_grads_with_autograd", "check_sigmoid_net_grads", "check_gradient_descent", "check_sgd_step",
    "check_train_perceptron", "check_sigmoid", "check_log_loss", "check_log_loss_gradients",
    "check_xor_mlp", "check_activation_derivatives", "check_collapsed_linear", "check_softmax",
    "check_cross_entropy", "check_momentum_descent", "check_train_one_epoch", "check_evaluate",
    "check_conv2d", "check_conv_output_size", "check_conv_parameter_count", "check_max_pool", "check_batch_norm",
    "check_compact_cnn",
    "check_rgba_to_rgb", "check_inverted_dropout", "check_early_stopping", "check_class_weights",
    "check_worst_mistakes",
    "check_normalize_batch", "check_replace_head", "check_freeze_backbone", "check_fine_tuning_optimizer",
    "check_throughput", "check_timed_training", "check_decoded_cache", "check_freeze_all_but_last",
    "check_build_model", "check_predict_classes", "check_random_search",
]
