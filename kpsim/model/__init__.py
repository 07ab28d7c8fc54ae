"""The model: PlenaryModel (mesa), the actors, the dynamics strategies, the random streams."""
