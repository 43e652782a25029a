"""The experiments: predictions from the analysis, tested by training the NumPy networks.

Each experiment module exposes ``run(cfg, data, progress) -> ExperimentOutput``; see
:mod:`lossanalysis.experiments.core` for the shared machinery and
:mod:`lossanalysis.experiments.report` for the report.
"""
