"""The project's files on disk: the models, atomic writes, path containment, lock and journal."""
