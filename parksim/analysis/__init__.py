"""What an ensemble's tables say: the summary, the paired differences between strategies,
calibration against published targets and sensitivity to the assumptions."""
