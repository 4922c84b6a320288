"""Matching: indexes per signal type, answering "which reference values are within this distance?"."""
