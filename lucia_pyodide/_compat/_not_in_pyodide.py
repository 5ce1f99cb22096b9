"""CPython stand-ins: no page, no fetch. Tests hand the client their own transport."""

from .._errors import UNKNOWN_ERROR, LuciaError
from ._protocols import HttpResponse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ._protocols import LockGrant


class NoFetch:
    """Refuses: outside Pyodide there is no browser ``fetch`` to call."""

    async def post(self, url: str, *, timeout: float, headers: "Mapping[str, str]") -> HttpResponse:
        raise LuciaError(UNKNOWN_ERROR, f"POST {url}: fetch needs Pyodide (this is CPython)")

    async def get(self, url: str, *, timeout: float, headers: "Mapping[str, str]") -> HttpResponse:
        raise LuciaError(UNKNOWN_ERROR, f"GET {url}: fetch needs Pyodide (this is CPython)")


class NoPage:
    """A page with nothing on it."""

    def page_data_json(self) -> "str | None":
        return None

    def user_script_text(self) -> "str | None":
        return None

    def origin(self) -> "str | None":
        return None

    def path(self) -> "str | None":
        return None

    def where(self) -> str:
        return "no browser"

    def navigate(self, url: str) -> None:
        raise RuntimeError("navigation needs a browser page")

    def user_script_in(self, html: str) -> "str | None":
        return None

    def shown_from_cache(self) -> bool:
        return False

    def age_ms(self) -> float:
        return 0.0

    def online(self) -> bool:
        return True

    def watch(self, on_change: "Callable[[str], None]") -> bool:
        return False

    def unwatch(self) -> None:
        pass


class NoTabs:
    """No other tabs: every method reports that it cannot."""

    def listen(self, on_message: "Callable[[object], None]") -> bool:
        return False

    def post(self, message: str) -> None:
        pass

    async def lock(self, timeout: float) -> "LockGrant | None":
        return None

    def read_record(self, key: str) -> "str | None":
        return None

    def write_record(self, key: str, record: str) -> None:
        pass

    def close(self) -> None:
        pass
