"""The errors kpsim reports to its users, at the bottom so that every layer may raise them."""

from __future__ import annotations


class InputError(Exception):
    """Bad user input: reported as plain messages, exit code 2, no traceback."""

    def __init__(self, messages: list[str] | str):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))
