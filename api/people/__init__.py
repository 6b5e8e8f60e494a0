"""People: teams, users with roles, staff tokens, enrolled devices."""
