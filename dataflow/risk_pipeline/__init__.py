"""Fusion Prime's risk pipeline: settlement events on Pub/Sub → exposures in BigQuery.

Importing the package imports nothing heavy: Django reads the table schemas from
`risk_pipeline.schemas` without loading Beam.
"""
