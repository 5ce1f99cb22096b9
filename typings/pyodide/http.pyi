from typing import Any

class AbortError(OSError): ...

class _Headers:
    def get(self, name: str) -> str | None: ...

class FetchResponse:
    status: int
    type: str
    headers: _Headers
    async def string(self) -> str: ...

async def pyfetch(
    url: str, /, *, signal: Any = None, fetcher: Any = None, **fetch_options: Any
) -> FetchResponse: ...
