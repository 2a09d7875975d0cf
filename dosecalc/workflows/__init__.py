"""One use case per command: read the inputs, call the clinical rules, return a result object. No typer, no rich."""
