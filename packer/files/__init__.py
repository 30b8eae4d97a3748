"""The project's files on disk: the three models, atomic writes, path containment, the lock."""
