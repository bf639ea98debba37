"""Parameter sweeps (campaigns): a sweep file, its cases, execution on Dask, the results table.

See docs/campaigns.md. ``spec`` reads and validates a sweep file and every case up front,
``runner`` runs the cases on a Dask cluster (one case per worker process, each with its own
Taichi runtime), ``table`` collects one row per case from the case run folders.
"""
