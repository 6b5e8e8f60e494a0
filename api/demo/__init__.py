"""The synthetic city and the demo day: seeded, reproducible data for trying fieldvisit out."""
