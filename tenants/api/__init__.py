"""The REST API of accounts and their domains (switchboard/api/ holds the generic parts)."""
