"""Tokens for Microsoft Graph: one credential class per kind, the token source and the token cache."""
