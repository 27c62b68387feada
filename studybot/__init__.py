"""studybot: an interview coach over your own deep-learning notes."""

__version__ = "0.1.0"
