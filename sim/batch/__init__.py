"""Many runs: run folders and their bookkeeping, sweeps and their tables, studies."""
