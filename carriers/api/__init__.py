"""Trunks and gateways in the REST API, for the master's and resellers' staff."""
