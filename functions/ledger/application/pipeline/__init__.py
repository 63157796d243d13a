"""The stream consumers' use cases: each applies what it receives exactly once, however often it is delivered."""
