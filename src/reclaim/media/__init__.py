"""Safe decoding of untrusted media: every limit is checked before the work it protects."""
