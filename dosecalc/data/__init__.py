"""The reviewed data files (drugs, ceilings, organ function, regimens) with their models and loaders, and the YAML reader with file:line. Imports only base."""
