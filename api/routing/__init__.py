"""HTTP doors and jobs that compose the routing engine into the app (plans, publishing, pictures)."""
