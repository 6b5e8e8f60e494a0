"""HTTP doors and domain handlers that compose the sync engine into the app (pull, push, conflicts)."""
