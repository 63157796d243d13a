"""CDK app: the topology description, the stack and its constructs."""
