"""Baselines from the Vizzly cloud: the API client, response checks and the download."""
