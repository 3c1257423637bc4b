"""The canned estimators: linear, DNN and wide & deep models over feature columns."""
