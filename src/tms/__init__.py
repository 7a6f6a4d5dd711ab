"""tms: toy models of superposition with correlated and anticorrelated features.

Plain PyTorch + dataclasses; Hydra is only needed by the command-line entry points.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version

from tms.core.artifacts import ArtifactError
from tms.core.config import DataConfig, FeatureSet, ModelConfig, RunConfig, TrainConfig, validate
from tms.core.controls import control_config
from tms.core.errors import ConfigError, TrainingDiverged
from tms.core.features import FeatureSampler, FeatureStructure
from tms.core.model import ToyModel, loss_per_instance, reconstruct
from tms.core.result import TrainResult
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
    "control_config",
    "loss_per_instance",
    "reconstruct",
    "train",
    "validate",
    "__version__",
]
