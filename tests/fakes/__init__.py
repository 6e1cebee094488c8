"""Protocol-faithful fake servers and test doubles for the systems on the other side."""
