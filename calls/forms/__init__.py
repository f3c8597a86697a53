"""Forms of the calls app, one module per part."""
