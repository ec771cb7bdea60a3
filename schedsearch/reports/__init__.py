"""What a study says back: its status, its best config with the snippet, its plots. Built on
``core``, ``store`` and ``search``; what the API and the CLI's local commands serve."""
