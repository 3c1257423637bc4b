"""Experiment tracking: experiments, runs, params, metrics, tags (MLflow's model)."""
