"""What is made from a stored session for people: the report (HTML, PDF) and the files
(RR text for Kubios, CSV, JSON, EDF+)."""
