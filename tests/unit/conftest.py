"""The unit tests' shared set-up.

Its presence puts ``tests/unit`` on ``sys.path`` (pytest's default ``prepend`` import mode),
so that a unit test in any folder imports :mod:`mock_graph_testlib`.
"""
