"""HTTP doors and jobs that compose the evidence engine into the app (uploads, items, legal exports)."""
