"""Deployment units: one class per component, instantiated per environment."""
