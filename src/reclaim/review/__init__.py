"""Review: the match queue and reviewers' decisions."""
