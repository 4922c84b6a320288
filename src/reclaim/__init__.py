"""Reclaim: find, preserve, understand and remove NCII and sexual deepfakes of the people it protects."""

__version__ = "0.1.0"
