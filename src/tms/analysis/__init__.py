"""Numbers from trained weights: geometry metrics, the paper's claims, statistics with intervals.

Pure numpy on arrays; imports only ``tms.core``.
"""
