"""Running processes: the embedded demo (hub, bus and edge in one), the hub process, the edge process."""
