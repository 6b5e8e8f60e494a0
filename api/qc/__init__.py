"""Quality control: a monthly sample of each collector's completed visits, reviewed by supervisors."""
