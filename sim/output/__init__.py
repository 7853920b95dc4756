"""What a run produced and how it is shown: the `Result` and its files, terminal tables,
figures."""
