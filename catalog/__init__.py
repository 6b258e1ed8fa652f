"""The model catalog: approved models, their cards, lifecycle, gateway sync and health."""
