"""Helpers for the deep-learning workshop."""
