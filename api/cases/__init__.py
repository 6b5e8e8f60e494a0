"""The collection domain: cases, addresses, visits, dispatch, outcomes, agreements, QC, the case feed."""
