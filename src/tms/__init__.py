"""tms: toy models of superposition with correlated and anticorrelated features.

A map of the house, bottom layer first (each subpackage imports only those listed before it):

- ``tms.core``: the training core. Config schema (``config``), each model's batch stream
  (``streams``, drawn by ``features``), the model and its hand-derived gradients (``model``),
  the trainer (``train``: the compiled ``kernel`` or batched torch), ``replay`` of one saved
  model, seeds, results and atomic artifacts; ``reference`` is the model's plain autograd
  definition, which the trainer computes faster. The run cache's key hashes this subpackage.
- ``tms.analysis``: numbers from trained weights. Geometry metrics, 2D alignment, the paper's
  claims, statistics with 95% intervals, collapse counts, sweep points, training series.
- ``tms.figures``: one module per figure and the registry listing them (``FIGURES``), drawing
  only (``plotting``, ``plot_curves``), summary.md tables; ``load_result`` reads a figure npz.
- ``tms.run``: running things. The entry points' schemas, Hydra glue (``compose.load_config``),
  the job runner, the run cache, the figures command's work (``make_figures``), aggregation.

Plain PyTorch, numpy and dataclasses; only ``tms.run.compose`` imports Hydra. Importing tms
changes no global state.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

from tms.analysis import claims, metrics, stats
from tms.core.artifacts import ArtifactError
from tms.core.config import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig, validate
from tms.core.controls import control_config
from tms.core.errors import ConfigError, TrainingDiverged
from tms.core.features import FeatureSampler
from tms.core.model import ToyModel, loss_per_instance, reconstruct
from tms.core.replay import replay
from tms.core.result import TrainResult
from tms.core.structure import FeatureStructure
from tms.core.train import train

try:
    __version__ = _distribution_version("tms")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "unknown"

__all__ = [
    "ArtifactError",
    "ConfigError",
    "DataConfig",
    "FeatureSampler",
    "FeatureSet",
    "FeatureStructure",
    "ModelConfig",
    "RunConfig",
    "ToyModel",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "claims",
    "control_config",
    "loss_per_instance",
    "metrics",
    "reconstruct",
    "replay",
    "stats",
    "train",
    "validate",
    "__version__",
]
