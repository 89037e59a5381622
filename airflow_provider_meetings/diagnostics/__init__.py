"""The connection check: its steps, its probes (sent through the Graph client) and its advice."""
