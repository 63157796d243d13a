"""The domain model. Standard library only: no AWS, no Powertools, no serialization frameworks."""
