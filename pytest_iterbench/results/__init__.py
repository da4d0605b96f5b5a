"""Result records, the environment they were measured in, and the append-only store."""
