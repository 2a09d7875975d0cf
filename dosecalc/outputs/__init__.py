"""What people read: tables that fit the terminal, JSON, CSV, the order sheet, charts, iCalendar and FHIR exports."""
