"""A family of two arrival kinds, for the schema reader's tests."""
