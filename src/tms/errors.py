"""Errors the library raises for bad input and failed training."""


class ConfigError(ValueError):
    """A config value is out of range. The message names the field and what is allowed."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class TrainingDiverged(RuntimeError):
    """The loss became non-finite; the message names the step and the instance."""
