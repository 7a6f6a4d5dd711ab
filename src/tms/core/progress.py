"""Training progress: a tqdm bar (a widget in Jupyter, a bar on a terminal), quiet when asked or under CI."""

from __future__ import annotations

import os


def progress_enabled() -> bool:
    return os.environ.get("CI", "").lower() not in ("1", "true", "yes")


class Progress:
    """``update(done)`` with the absolute step count; nothing is shown when disabled."""

    def __init__(self, total: int, label: str = "train", enabled: bool = True):
        self.bar = None
        self.done = 0
        if enabled and progress_enabled() and total > 0:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=label, unit="step", leave=False, mininterval=0.5)

    def update(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
