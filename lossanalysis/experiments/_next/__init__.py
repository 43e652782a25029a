"""The experiments in their new shape (:mod:`lossanalysis.experiments.base`), while they replace
the modules of the package above one by one; this package then becomes the package itself."""
