"""Evolutionary dynamics: the primordial soup of BFF programs (cubff-exact) and the seed's GA."""

from holomind.evolution.soup import CSV_HEADER, LogRow, Soup, SoupConfig

__all__ = ["CSV_HEADER", "LogRow", "Soup", "SoupConfig"]
