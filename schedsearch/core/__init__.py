"""What a study *is*, in pure Python and pydantic: no torch, no Optuna, no SQL.

The spec, the schedule families (configs, closed forms, the code they generate), the search
space, the folklore recipes, the status vocabularies and the typed trial record. Every other
layer builds on this one, and the API and the CLI's HTTP commands need nothing heavier.
"""
