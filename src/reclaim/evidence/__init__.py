"""Evidence a court accepts: an append-only Merkle log (RFC 9162 hashing), signed checkpoints, encrypted holds,
sealed packages and an offline verifier.

`merkle`, `encoding`, `package_format` and `verify` are pure (no database, no workspace) so that
`reclaim evidence verify` runs anywhere with only a package and a public key. `log`, `checkpoints`, `holds` and
`export` are services: they work inside the caller's transaction.
"""
