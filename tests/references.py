"""Reference transcripts of the real speech clips in tests/data (see tests/data/SOURCES.md)."""

JFK = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
LEFT = (
    "He began a confused complaint against the wizard, "
    "who had vanished behind the curtain on the left."
)
RIGHT = "The horizon seems extremely distant."
