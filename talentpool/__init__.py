"""The IP talent pool: experts, organisations, review, search and contact
requests. May read courses (an expert's verified certificates)."""
