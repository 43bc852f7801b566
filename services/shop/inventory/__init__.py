"""The shop's inventory: products, stock levels, and the holds the order saga places on them."""
