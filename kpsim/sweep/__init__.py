"""What runs many points: designs, execution, the resumable store, sensitivity, calibration."""
