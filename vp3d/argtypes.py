"""argparse value types shared by the subcommands: a bad value is a usage error naming the option, before
any work (rather than a traceback, or a run that silently does nothing, minutes later)."""

from __future__ import annotations

import argparse


def number(low: float, high: float = float("inf"), cast=float, include_low: bool = False,
                 include_high: bool = False):
    """An argparse type: `cast` of the text, between low and high (each end included or not)."""
    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        above = value >= low if include_low else value > low
        below = value <= high if include_high else value < high
        if not (above and below):
            if high == float("inf"):
                bounds = f"{'at least' if include_low else 'above'} {low:g}"
            else:
                bounds = f"in {'[' if include_low else '('}{low:g}, {high:g}{']' if include_high else ')'}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {text}")
        return value
    return parse


count = number(0, cast=int)
"""A whole number above 0."""


def filter_widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"comma-separated odd numbers (e.g. 3,3,3), not {text!r}") from None
    if not all(w >= 1 and w % 2 == 1 for w in widths):
        raise argparse.ArgumentTypeError(f"filter widths are odd numbers >= 1, not {text!r}")
    return widths
