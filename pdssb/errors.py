"""Errors that mean "the input is wrong": the CLI prints them as one line and exits with code 2."""


class InputError(ValueError):
    """Bad user input (scene, sweep, run folder, CLI argument). ``where`` names the field or file."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}" if where else reason)
        self.where = where
        self.reason = reason
