"""OGC API plumbing that is not an endpoint: HTML pages, conformance list, OpenAPI 3.0 shaping."""
