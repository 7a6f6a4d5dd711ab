"""Running things: entry-point schemas, Hydra glue, the job runner, the run cache, aggregation.

The top layer: it may import every other subpackage, and none of them imports it.
"""
