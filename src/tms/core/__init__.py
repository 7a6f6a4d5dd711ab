"""The training core: config schema, feature generators, the model, the trainer, seeds.

Imports nothing above it. Every file here decides what a run computes, so the run cache's key
hashes this whole subpackage (``tms.run.cache.code_hash``).
"""
