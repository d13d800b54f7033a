"""`make review`: the change report (`python -m tools.review BASE`); see `__main__`."""
