"""好差评: the national rating rules (rules), storing a rating (store) and its endpoint (api)."""
