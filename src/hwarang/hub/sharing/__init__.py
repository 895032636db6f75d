"""Need-to-know: the sharing policy, visibility, declared conditions and their grants."""
