"""Command bodies that live outside cli.py: cli.py keeps each command's options (typer) and
calls one function here, which reads the inputs, calls the core and hands results to render."""
