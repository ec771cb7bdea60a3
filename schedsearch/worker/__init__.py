"""The loop that joins search, engine and store: ``schedsearch worker`` and ``schedsearch run``.

``loop`` (one worker: claim, train, report, settle), ``objective`` (one trial), ``fleet`` (a
process per device), ``runner`` (a whole study on this machine), ``logs``, ``faults`` (a
test hook that pauses a worker at a given phase; nothing unless set).
"""
