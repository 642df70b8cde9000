"""The runner that wires the stages, its parameters, stage cache, run manifest and regeneration check."""
