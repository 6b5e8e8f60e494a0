"""Visit requests (by dispatchers and by the system's own rules) and dispatch: assign, reassign, cancel."""
