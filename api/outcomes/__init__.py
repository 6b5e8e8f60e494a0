"""Visit outcomes (action codes), the case state machine, promises, agreements and their approval."""
