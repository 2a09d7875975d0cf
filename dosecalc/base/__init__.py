"""The floor everything stands on: errors, alerts, the one strict number reader, units, numbers as printed, JSON text. Imports nothing of dosecalc above it."""
