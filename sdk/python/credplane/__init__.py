"""credplane: cloud credentials as code.

The runtime (stack engine, client, secrets, state) lives in :mod:`credplane.runtime`; generated
typed resource classes live in :mod:`credplane.resources`.
"""

__version__ = "0.1.0"
