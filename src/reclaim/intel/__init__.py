"""Understanding rooms: lineage of recreated rooms, unique actors, institutions, graphs and the rooms report."""
