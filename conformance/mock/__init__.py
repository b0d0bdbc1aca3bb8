"""Reference mock of the ZTDX fapi (Starlette + uvicorn): an independent implementation of the contract."""

from .app import create_app
from .control import VERSION as __version__
from .limits import scaled_limits
from .server import MockProcess, MockServer

__all__ = ["MockProcess", "MockServer", "__version__", "create_app", "scaled_limits"]
