"""Signal types: what Reclaim computes from media, how two values compare, and how they are written down."""
