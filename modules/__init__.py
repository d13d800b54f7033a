"""Constructs, one per concern. Modules never create providers or backends."""
