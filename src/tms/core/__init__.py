"""The training core: what a run computes.

- ``config``: the run schema (RunConfig and its parts) and its checks; ``errors``.
- ``structure``: feature sets and their layout (the paper's convention); ``features``: sampling
  batches of them; ``seeds``: every seed of a run, derived from its run seed.
- ``model``: x' = ReLU(W^T W x + b) and its hand-derived gradients; ``train``: the trainer;
  ``reference``: the plain autograd definition the trainer computes faster.
- ``result``, ``artifacts``, ``completion``: what a run returns, how it is saved, and when a
  folder of it counts as complete; ``sweeps``: a run split along the instance axis and merged
  back; ``controls``: a run's independent-feature control.

Imports nothing above it. Every file here decides what a run computes, so the run cache's key
hashes this whole subpackage (``tms.run.cache.code_hash``).
"""
