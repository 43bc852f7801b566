"""The commands the tooling adds to ``evp`` (entry point group ``evp.commands``).

Each module exposes ``register(subparsers)``, as :mod:`evp.cli.main` expects of every
command module; ``evp`` finds them through the entry points and never imports this package.
"""
