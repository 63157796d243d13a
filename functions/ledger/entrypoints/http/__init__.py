"""What the HTTP functions share: request parsing, error mapping, response shapes, the OpenAPI document."""
