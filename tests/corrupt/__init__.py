"""Bad-input corpus for fsck: builders that damage a freshly built store (``builders.py``)."""
