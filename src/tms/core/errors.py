"""Errors the library raises for bad input and failed training."""


class ConfigError(ValueError):
    """A config value is out of range. The message names the field and what is allowed."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def __reduce__(self):  # survives pickling, e.g. back from a worker process
        return type(self), (self.field, self.message)


class TrainingDiverged(RuntimeError):
    """The loss became non-finite; the message names the step and the instance."""
