"""Webhooks: case status changes pushed to subscribers, signed, retried, logged, replayable."""
