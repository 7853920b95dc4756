"""Teaching: runs told in Docker's words (narrate), narrated demos, and sim-docker."""
