"""Turn result files into the paper's tables, figures and claims report."""
