"""Option choices of the command line, as plain literals so that ``--help`` imports nothing heavy.

Each tuple mirrors a library table (``tests/test_cli_help.py`` checks they stay equal):
:data:`METHOD_NAMES` the keys of ``bbpfit.inference.METHODS``, :data:`CORRECTION_NAMES` those of
``bbpfit.inference.CORRECTIONS``, :data:`FORMAT_NAMES` those of ``bbpfit.sources.FORMATS``.
"""

METHOD_NAMES = ("auto", "tw", "tw-asymptotic", "ratio", "rank", "biwhiten")
CORRECTION_NAMES = ("fdr_bh", "fdr_by", "holm", "bonferroni", "hommel", "holm-sidak", "sidak",
                    "simes-hochberg", "fdr_tsbh", "fdr_tsbky")
FORMAT_NAMES = ("hf-folder", "safetensors", "torch")
