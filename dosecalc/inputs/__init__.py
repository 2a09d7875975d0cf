"""What people and systems send: history files, lab files, orders (YAML and FHIR), the policy file. Read strictly into the records the clinical layer uses."""
