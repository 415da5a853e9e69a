"""The risk pipeline's home. `risk_pipeline` is the Beam package (see QUICKSTART.md)."""
