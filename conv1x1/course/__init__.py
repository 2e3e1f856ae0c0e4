"""The course around the lesson: the tour (``python -m conv1x1``) and the command line.

- ``tour``: the 1x1 convolution's story, with numbers computed on the spot.
- ``cli``: ``python -m conv1x1`` and its commands (``cost``, ``exercises``).

The exercises themselves, with their checker and class grader, are ``conv1x1.exercises``.
"""
