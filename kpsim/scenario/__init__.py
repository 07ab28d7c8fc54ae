"""The scenario: its schema (built from the rules and the actor kinds), loading with file:line errors, `extends:`, the sweep spec."""
